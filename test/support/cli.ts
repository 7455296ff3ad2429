/**
 * The operator CLI as a test drives it: each command runs as its own process (`server/cli.ts`, what `npm run
 * iam --` runs, bundled by esbuild instead of run under tsx's loader: test/support/compiled-entry.ts) against a
 * fresh database of its own, and the test can open that database in-process between commands to arrange or
 * inspect state.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Identity } from '../../identity/index.js';
import { createLogger, loadConfig, systemClock } from '../../lib/index.js';
import { wireIdentity } from '../../server/wiring.js';
import { openDatabaseForCli, type Database } from '../../storage/index.js';
import { compiledEntry } from './compiled-entry.js';
import { separateProcessDatabase } from './database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What one CLI process printed and its exit code. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A CLI with its own database. */
export interface CliHarness {
  /** Environment that points a process at the database (`DATA_DIR`, and `DATABASE_URL` on a server). */
  env: Record<string, string>;
  /** Runs `iam <args>`, piping `stdin`; `env` adds variables (e.g. another `ENCRYPTION_KEY`). */
  iam(args: string[], options?: { stdin?: string; env?: Record<string, string> }): Promise<CliResult>;
  /** Opens the database in this process (no CLI may run meanwhile with the embedded database) for `run`. */
  withDatabase<T>(run: (database: Database) => Promise<T>): Promise<T>;
  /** Like {@link withDatabase}, with identity services wired on it (mail is dropped). */
  inProcess<T>(run: (identity: Identity) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

/** Creates a CLI harness with a fresh, initialized database. */
export async function startCliHarness(): Promise<CliHarness> {
  const db = await separateProcessDatabase();
  // Like `iam --init` once: the CLI refuses to create a database of its own accord.
  await (await openDatabaseForCli({ url: db.env.DATABASE_URL, dataDir: db.env.DATA_DIR!, init: true })).close();
  const withDatabase = async <T>(run: (database: Database) => Promise<T>): Promise<T> => {
    const database = await openDatabaseForCli({ url: db.env.DATABASE_URL, dataDir: db.env.DATA_DIR! });
    try {
      return await run(database);
    } finally {
      await database.close();
    }
  };
  return {
    env: db.env,
    async iam(args, options = {}) {
      const cli = await compiledEntry('server/cli.ts');
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [cli, ...args], {
          cwd: root,
          env: { ...process.env, ...db.env, LOG_LEVEL: 'silent', NODE_ENV: 'development', ...options.env },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d));
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(options.stdin ?? '');
      });
    },
    withDatabase,
    inProcess: (run) =>
      withDatabase((database) => {
        const config = loadConfig({ ...db.env, LOG_LEVEL: 'silent' });
        return run(wireIdentity(config, database, { mailer: { send: async () => {} }, clock: systemClock, logger: createLogger('silent') }));
      }),
    dispose: () => db.dispose(),
  };
}
