/**
 * The database on a `pg.Pool` that the caller owns, for an embedding host that hands connect-iam its own pool
 * (server/embed.ts). Migrated like a pool opened from `DATABASE_URL` (storage/postgres-database.ts), but its
 * bounds (timeouts, size, error listeners) are the host's, and closing the database leaves the pool open.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database, Db } from './database.js';
import { migratePostgres } from './migrate.js';
import * as schema from './schema.js';

/**
 * Migrates the database `pool` reaches (under the migration lock, so instances starting together agree) and
 * uses the pool as is. `close()` of the result does not end the pool: that is the caller's business.
 * @throws the driver's error when the server cannot be reached or a migration fails.
 */
export async function openPostgresPool(pool: pg.Pool): Promise<Database> {
  await migratePostgres(pool);
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  return { db, kind: 'postgres', rateLimiterClient: { storeType: 'pool', storeClient: pool }, close: async () => {} };
}
