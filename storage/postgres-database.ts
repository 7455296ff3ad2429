/**
 * A PostgreSQL server through a `pg` pool whose every wait is bounded: opening a connection and waiting for a
 * free one (`connectionTimeoutMillis`), a statement (`statement_timeout` on the server, `query_timeout` in the
 * client for a server or network that went silent), and a transaction left idle
 * (`idle_in_transaction_session_timeout`). A request that hits a bound fails with an error `isUnavailable`
 * recognizes, so it answers 503 within seconds instead of holding a pool connection for as long as the database hangs.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { DomainError } from '../lib/index.js';
import type { Database, Db, PostgresOptions } from './database.js';
import { hasMigrationsTable, migratePostgres } from './migrate.js';
import * as schema from './schema.js';

/** The bounds of {@link PostgresOptions} with their defaults applied, in seconds. */
export interface PostgresBounds {
  connectTimeoutSeconds: number;
  statementTimeoutSeconds: number;
  idleInTransactionTimeoutSeconds: number;
}

/** How a pooled database was reached, kept for connections outside the pool (the readiness probe). */
const connections = new WeakMap<Database, { url: string; bounds: PostgresBounds }>();

/** The URL and bounds `database` was opened with; undefined when it is not a pool opened here. */
export function postgresConnectionOf(database: Database): { url: string; bounds: PostgresBounds } | undefined {
  return connections.get(database);
}

/** The URL without its password, for messages. */
export function describePostgresUrl(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;
}

/** pg connection options that apply `bounds` to every connection opened with them. */
export function boundedConnectionOptions(url: string, bounds: PostgresBounds): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: bounds.connectTimeoutSeconds * 1000,
    statement_timeout: bounds.statementTimeoutSeconds * 1000,
    query_timeout: (bounds.statementTimeoutSeconds + 1) * 1000,
    idle_in_transaction_session_timeout: bounds.idleInTransactionTimeoutSeconds * 1000,
    keepAlive: true,
  };
}

/** Runs `run` on a pool of one connection without statement bounds (migrations may wait for another instance's lock). */
async function withUnboundedPool<T>(url: string, connectTimeoutSeconds: number, run: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: connectTimeoutSeconds * 1000 });
  pool.on('error', () => undefined);
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

/** How storage/embedded-database.ts uses this path for the embedded database, served by its worker on a socket. */
export interface PoolDatabaseExtras {
  /** The {@link Database.kind} to report (default `postgres`). */
  kind?: Database['kind'];
  /** Run after the pool has ended, as part of `close()` (the embedded database stops its worker). */
  afterClose?: () => Promise<void>;
}

/**
 * Migrates the database at `options.url` (on a connection of its own), then opens the bounded pool, which ends
 * when the returned database is closed.
 * @throws DomainError `not_found` with `mustExist` when the database has no connect-iam schema; the driver's
 *   error when the server cannot be reached or a migration fails.
 */
export async function openPostgresDatabase(options: PostgresOptions, extras: PoolDatabaseExtras = {}): Promise<Database> {
  const bounds: PostgresBounds = {
    connectTimeoutSeconds: options.connectTimeoutSeconds ?? 3,
    statementTimeoutSeconds: options.statementTimeoutSeconds ?? 5,
    idleInTransactionTimeoutSeconds: options.idleInTransactionTimeoutSeconds ?? 10,
  };
  await withUnboundedPool(options.url, bounds.connectTimeoutSeconds, async (migrations) => {
    if (options.mustExist && !(await hasMigrationsTable(migrations))) {
      throw new DomainError('not_found', `the database ${describePostgresUrl(options.url)} (DATABASE_URL) holds no connect-iam data; check DATABASE_URL, or pass --init to create the schema there`, { expose: true });
    }
    await migratePostgres(migrations);
  });
  const pool = new pg.Pool({ ...boundedConnectionOptions(options.url, bounds), max: options.poolSize ?? 10 });
  const onError = options.onPoolError ?? (() => undefined);
  pool.on('error', onError);
  // A connection lost while checked out (between two statements of a transaction) errors on its client, not the
  // pool: without a listener that would end the process. The statement in progress fails on its own.
  pool.on('connect', (client) => void client.on('error', onError));
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  let closed: Promise<void> | undefined;
  const close = async () => {
    try {
      await pool.end();
    } finally {
      await extras.afterClose?.();
    }
  };
  const database: Database = { db, kind: extras.kind ?? 'postgres', rateLimiterClient: { storeType: 'pool', storeClient: pool }, close: () => (closed ??= close()) };
  connections.set(database, { url: options.url, bounds });
  return database;
}
