/**
 * A PostgreSQL server through a `pg` pool.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Database, Db, PostgresOptions } from './database.js';
import { migratePostgres } from './migrate.js';
import * as schema from './schema.js';

/**
 * Opens a pool to `options.url` and migrates it. The pool ends when the returned database is closed.
 * @throws the driver's error when the server cannot be reached or a migration fails (the pool is ended).
 */
export async function openPostgresDatabase(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: (options.connectTimeoutSeconds ?? 5) * 1000,
  });
  pool.on('error', options.onPoolError ?? (() => undefined));
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  let closed: Promise<void> | undefined;
  return { db, kind: 'postgres', close: () => (closed ??= pool.end()) };
}
