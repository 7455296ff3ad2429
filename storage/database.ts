/**
 * Opening the database: a PostgreSQL server, or the embedded PostgreSQL (PGlite, in a worker thread) in
 * memory or on disk. Both are reached through a `pg` pool and drizzle's node-postgres driver, so every mode
 * gives the same drizzle {@link Db} over `storage/schema.ts`, migrated, and runs the same code.
 */
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type * as schema from './schema.js';
import { openEmbeddedDatabase } from './embedded-database.js';
import { openPostgresDatabase } from './postgres-database.js';

/** The schema's tables, as drizzle sees them. */
export type Schema = typeof schema;

/** A drizzle database over {@link Schema} (node-postgres driver). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** A transaction opened with `db.transaction(async (tx) => …)`. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** Anything queries can run on: the database or a transaction. */
export type Executor = Db | Tx;

/** A client that runs one parameterized statement: `pg`'s `query({ text, values })` shape. */
export interface QueryClient {
  /** `name` (a prepared-statement name) may be ignored. */
  query(query: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** The raw client that rate-limiter-flexible's PostgreSQL store runs on, as its `storeType`/`storeClient` options. */
export type RateLimiterClient = { storeType: 'pool'; storeClient: QueryClient };

/** An open, migrated database. */
export interface Database {
  db: Db;
  /** `pglite`: embedded (in memory or on disk, served by a worker thread); `postgres`: a server. Both are reached through `pg`. */
  kind: 'pglite' | 'postgres';
  /** The same database as a raw client, for rate-limiter-flexible (storage/sign-in-throttle.ts): the `pg` pool. */
  rateLimiterClient: RateLimiterClient;
  /**
   * Ends the pool; for the embedded database then stops its sockets (the CLI's too, see
   * `serveEmbeddedDatabase`), closes PGlite (on disk: everything written) and ends its worker thread, and
   * releases the folder lock. Idempotent.
   */
  close(): Promise<void>;
}

/** How to reach a PostgreSQL server. */
export interface PostgresOptions {
  /** Connection string, e.g. `postgres://user:pass@host:5432/db`. */
  url: string;
  /** Maximum connections in the pool (default 10). */
  poolSize?: number;
  /**
   * Longest wait, in seconds, for a connection (default 3): to open one, and for a free one when the pool is
   * full (pg's `connectionTimeoutMillis` bounds both). Fail fast when the server is down or saturated.
   */
  connectTimeoutSeconds?: number;
  /**
   * Longest a statement may run, in seconds (default 5): PostgreSQL's `statement_timeout` (SQLSTATE 57014),
   * and pg's client-side `query_timeout` one second later, for a server or network that stopped answering.
   * Migrations run on a connection of their own without it.
   */
  statementTimeoutSeconds?: number;
  /** PostgreSQL's `idle_in_transaction_session_timeout`, in seconds (default 10): a transaction left idle this long is ended by the server. */
  idleInTransactionTimeoutSeconds?: number;
  /** True: refuse (DomainError `not_found`) a database that has no connect-iam schema yet instead of creating it (the CLI without `--init`). */
  mustExist?: boolean;
  /** Called with errors of idle pooled connections (server restart, network); default: ignored, the pool reconnects. */
  onPoolError?: (error: Error) => void;
}

/** What both embedded modes accept. */
export interface EmbeddedOptions {
  /**
   * Called when the database's worker thread ended unexpectedly (a crash, or out of memory); queries fail
   * with connection errors from then on. Default: throw, which ends the process with the reason.
   */
  onWorkerExit?: (error: Error) => void;
}

/** The embedded database in memory: for tests; gone when closed. */
export interface MemoryOptions extends EmbeddedOptions {
  memory: true;
}

/** The embedded database on disk, at `<dataDir>/pgdata`, owned by this process. */
export interface DataDirOptions extends EmbeddedOptions {
  /** Folder holding `pgdata/`, the lock, the pid file and the CLI socket; created when missing (unless `mustExist`). */
  dataDir: string;
  /** True: refuse (DomainError `not_found`, naming the folder) when `<dataDir>/pgdata` holds no database, instead of creating one (the CLI without `--init`). */
  mustExist?: boolean;
  /**
   * Called when the folder lock was lost (its heartbeat could not be written for 10 seconds, so another
   * process may take it). Default: throw, which ends the process — two writers would lose data.
   */
  onLockCompromised?: (error: Error) => void;
}

/** One of the three ways to open the database. */
export type OpenDatabaseOptions = PostgresOptions | MemoryOptions | DataDirOptions;

/**
 * Opens the database and applies pending migrations.
 * - `{ url }`: a `pg` pool to a PostgreSQL server.
 * - `{ memory: true }`: an in-memory PGlite (tests), in a worker thread, reached through a `pg` pool on a local socket.
 * - `{ dataDir }`: the same on disk at `<dataDir>/pgdata`, guarded by a folder lock so only one process opens it.
 *
 * @throws EmbeddedDatabaseInUseError (DomainError `unavailable`) when another live process holds `dataDir`.
 * @throws the driver's error when the server cannot be reached or a migration fails.
 * @example
 * const database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir });
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if ('url' in options) return openPostgresDatabase(options);
  return openEmbeddedDatabase(options);
}
