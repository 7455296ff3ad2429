/**
 * A fresh database per test file: in-memory PGlite by default; when the suite runs as the `postgres`
 * project (`CONNECT_IAM_TEST_DB=postgres`, vitest.config.ts), a new uniquely named database on the server at
 * `TEST_DATABASE_URL`, dropped again on close.
 */
import pg from 'pg';
import { randomToken } from '../../lib/index.js';
import { openDatabase, type Database } from '../../storage/index.js';

/** True when this test run uses a PostgreSQL server rather than PGlite. */
export const usingPostgresServer = process.env.CONNECT_IAM_TEST_DB === 'postgres';

async function onServer<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * Opens a migrated, empty database for one test file. Close it in `afterAll`.
 * @throws when `CONNECT_IAM_TEST_DB=postgres` and `TEST_DATABASE_URL` is unset or unreachable.
 */
export async function openTestDatabase(): Promise<Database> {
  if (!usingPostgresServer) return openDatabase({ memory: true });
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('CONNECT_IAM_TEST_DB=postgres needs TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  const name = `connect_iam_test_${randomToken(9).toLowerCase().replace(/[^a-z0-9]/g, '')}_${process.pid}`;
  await onServer(adminUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize: 20 });
  let closed: Promise<void> | undefined;
  return {
    ...database,
    close: () =>
      (closed ??= (async () => {
        await database.close();
        await onServer(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
      })()),
  };
}

/**
 * Environment for a separate process (the CLI) that must use its own fresh database: a temporary embedded
 * data folder, or a new database on the server in the `postgres` project. `dispose()` removes it.
 */
export async function separateProcessDatabase(): Promise<{ env: Record<string, string>; dispose(): Promise<void> }> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'connect-iam-cli-'));
  if (!usingPostgresServer) return { env: { DATA_DIR: dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
  const adminUrl = process.env.TEST_DATABASE_URL!;
  const name = `connect_iam_cli_${randomToken(9).toLowerCase().replace(/[^a-z0-9]/g, '')}_${process.pid}`;
  await onServer(adminUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    async dispose() {
      await onServer(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
