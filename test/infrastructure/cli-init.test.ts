/**
 * The CLI never creates a database unless `--init` is given: pointed at the wrong folder (or an empty
 * PostgreSQL database) it refuses, names where it looked, and creates nothing. `DATA_DIR` is resolved by one
 * function for the server and the CLI, against the working directory, and reported as an absolute path.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveDataDir } from '../../lib/index.js';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `iam <args>` from `cwd` with `env`. */
function iam(args: string[], env: Record<string, string>, cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { DATABASE_URL: _inherited, DATA_DIR: _dataDir, ...parentEnv } = process.env;
    // tsx by absolute path: the working directory may be anywhere.
    const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'server/cli.ts'), ...args], { cwd, env: { ...parentEnv, LOG_LEVEL: 'silent', NODE_ENV: 'development', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end();
  });
}

/** Whether connect-iam's schema exists in the database at `url`. */
async function hasSchema(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ present: boolean }>("select to_regclass('drizzle.__drizzle_migrations') is not null as present")).rows[0]!.present;
  } finally {
    await client.end();
  }
}

// Each test spawns several CLI processes (tsx, then the embedded database's worker): 6-20 s apiece when the
// machine is loaded, so 60 s was not enough for some (as in test/oauth/client-authentication-cli.test.ts).
describe('the CLI creates a database only with --init', { timeout: 180_000 }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('refuses to run against a folder or database that holds none, naming where it looked, and creates nothing', async () => {
    const db = await separateProcessDatabase();
    cleanups.push(db.dispose);
    const refused = await iam(['organization', 'list'], db.env);
    expect(refused.code).toBe(1);
    if (usingPostgresServer) {
      const where = new URL(db.env.DATABASE_URL!);
      expect(refused.stderr).toContain(`error: the database postgres://${where.username}@${where.host}${where.pathname} (DATABASE_URL) holds no connect-iam data; check DATABASE_URL, or pass --init to create the schema there`);
      expect(await hasSchema(db.env.DATABASE_URL!)).toBe(false);
    } else {
      expect(refused.stderr).toContain(`error: no connect-iam database in ${db.env.DATA_DIR}/ (DATA_DIR, resolved from the working directory); point DATA_DIR at the server's data folder, or pass --init to create a new database there`);
      expect(existsSync(path.join(db.env.DATA_DIR!, 'pgdata'))).toBe(false);
    }
    expect(refused.stdout).toBe('');

    const json = await iam(['organization', 'list', '--json'], db.env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: 'not_found' });
  });

  it('creates the database with --init, and uses it afterwards without', async () => {
    const db = await separateProcessDatabase();
    cleanups.push(db.dispose);
    const created = await iam(['--init', 'organization', 'create', '--name', 'Init Test Ltd', '--participant-id', 'B07003'], db.env);
    expect(created.stderr).not.toContain('error:');
    expect(created.code).toBe(0);
    const listed = await iam(['organization', 'list'], db.env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('Init Test Ltd');
  });

  it.skipIf(usingPostgresServer)('resolves a relative DATA_DIR against its working directory and names the absolute folder', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'connect-iam-cwd-'));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    const refused = await iam(['organization', 'list'], { DATA_DIR: 'var' }, cwd);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`no connect-iam database in ${path.join(cwd, 'var')}/`);
    expect(existsSync(path.join(cwd, 'var'))).toBe(false);
  });

  it('gives the server and the CLI one absolute DATA_DIR from one function', () => {
    expect(loadConfig({ DATA_DIR: 'var' }).dataDir).toBe(path.resolve('var'));
    expect(loadConfig({ DATA_DIR: '/srv/iam/../iam/data' }).dataDir).toBe('/srv/iam/data');
    expect(resolveDataDir('var', '/srv/connect-iam')).toBe('/srv/connect-iam/var');
  });
});
