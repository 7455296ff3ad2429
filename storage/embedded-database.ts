/**
 * The embedded PostgreSQL (PGlite): in memory for tests, or on disk at `<dataDir>/pgdata` under the folder
 * lock. One PGlite instance is one PostgreSQL backend: its in-process queries and transactions are
 * serialized by PGlite's own transaction mutex.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { DomainError } from '../lib/index.js';
import type { DataDirOptions, Database, Db, MemoryOptions, QueryClient } from './database.js';
import { createEmbeddedDataFolder, EMBEDDED_START_PARAMS, freshDataFolderTemplate, isMissingOrEmpty } from './embedded-initdb.js';
import { lockDataDir } from './folder-lock.js';
import { migrateEmbedded } from './migrate.js';
import * as schema from './schema.js';

/** What storage keeps about an embedded database beyond its {@link Database} face. */
export interface EmbeddedState {
  pglite: PGlite;
  /** Absolute data folder; null in memory. */
  dataDir: string | null;
  /** Run (in reverse order) before PGlite closes, e.g. stopping the CLI socket. */
  beforeClose: Array<() => Promise<void>>;
}

const states = new WeakMap<Database, EmbeddedState>();

/** The PGlite behind `database`; undefined when it is a PostgreSQL server. */
export function embeddedStateOf(database: Database): EmbeddedState | undefined {
  return states.get(database);
}

/**
 * `pg`'s `query({ text, values })` over PGlite, for libraries that take a raw client (rate-limiter-flexible).
 * PGlite has no named prepared statements, so `name` is ignored; `rowCount` is the rows returned, or affected.
 */
export function pgliteQueryClient(pglite: PGlite): QueryClient {
  return {
    async query({ text, values }) {
      const result = await pglite.query<Record<string, unknown>>(text, values);
      return { rows: result.rows, rowCount: result.rows.length || (result.affectedRows ?? 0) };
    },
  };
}

/** True when `<dataDir>/pgdata` holds a PostgreSQL data folder (PGlite writes `PG_VERSION` when it creates one). */
export function embeddedDatabaseExists(dataDir: string): boolean {
  return existsSync(path.join(path.resolve(dataDir), 'pgdata', 'PG_VERSION'));
}

/**
 * Starts PGlite without ever running initdb in this process (storage/embedded-initdb.ts): a new folder is
 * made by a child process that exits, a memory database loads a copy of a fresh folder; every one runs with
 * {@link EMBEDDED_START_PARAMS} (16 MB shared buffers). Measured with `bench/memory.ts` (`npm start`, PGlite
 * 0.5.14, Node 20, RSS of the process tree): the server process's peak on a first start 962 → 374 MB (the
 * initdb child peaks at about 600 MB and exits), idle after it 638 → 396 MB, after a restart 513 → 423 MB,
 * peak under load 586 → 472 MB. A folder that exists without `PG_VERSION` and is not empty is left to PGlite.
 */
async function startPglite(dataDir: string | null): Promise<PGlite> {
  if (!dataDir) return PGlite.create({ loadDataDir: await freshDataFolderTemplate(), startParams: EMBEDDED_START_PARAMS });
  const pgdata = path.join(dataDir, 'pgdata');
  if (!embeddedDatabaseExists(dataDir) && (await isMissingOrEmpty(pgdata))) await createEmbeddedDataFolder(pgdata);
  return PGlite.create(pgdata, { startParams: EMBEDDED_START_PARAMS });
}

/**
 * Opens PGlite in memory or on disk and migrates it.
 * @throws DomainError `not_found` (naming the absolute folder) with `mustExist` when `dataDir` holds no database;
 *   nothing is created then. EmbeddedDatabaseInUseError when another live process holds `dataDir`.
 */
export async function openEmbeddedDatabase(options: MemoryOptions | DataDirOptions): Promise<Database> {
  const dataDir = 'dataDir' in options ? path.resolve(options.dataDir) : null;
  if (dataDir && 'dataDir' in options && options.mustExist && !embeddedDatabaseExists(dataDir)) {
    throw new DomainError('not_found', `no connect-iam database in ${dataDir}/ (DATA_DIR, resolved from the working directory); point DATA_DIR at the server's data folder, or pass --init to create a new database there`, { expose: true });
  }
  const releaseLock = dataDir ? await lockDataDir(dataDir, 'dataDir' in options ? options.onLockCompromised : undefined) : async () => undefined;
  let pglite: PGlite | undefined;
  try {
    pglite = await startPglite(dataDir);
    await migrateEmbedded(pglite);
  } catch (error) {
    await pglite?.close().catch(() => undefined);
    await releaseLock();
    throw error;
  }
  const client = pglite;
  const state: EmbeddedState = { pglite: client, dataDir, beforeClose: [] };
  let closed: Promise<void> | undefined;
  const database: Database = {
    db: drizzle({ client, schema }) as unknown as Db,
    kind: 'pglite',
    rateLimiterClient: { storeType: 'client', storeClient: pgliteQueryClient(client) },
    close: () =>
      (closed ??= (async () => {
        try {
          for (const step of state.beforeClose.reverse()) await step().catch(() => undefined);
          if (!client.closed) await client.close();
        } finally {
          await releaseLock();
        }
      })()),
  };
  states.set(database, state);
  return database;
}
