/**
 * The database half of readiness (`/readyz`): does the database answer, within a bound, and are its
 * migrations current? The probe never queues behind the request pool: on a PostgreSQL server it uses a
 * connection of its own (opened with a short connect and statement timeout, dropped on any failure), to the
 * server or to the embedded database's worker socket. A probe still running is never doubled up on.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Database } from './database.js';
import { LATEST_APPLIED_MIGRATION_SQL, LATEST_MIGRATION_MILLIS } from './migrate.js';
import { postgresConnectionOf } from './postgres-database.js';

/** `ok`, or what is wrong, in words an operator can act on. */
export interface DatabaseProbeResult {
  /** True when both checks are `ok`. */
  ok: boolean;
  /** `ok`, `did not answer within 1 s` or `unreachable` (safe to show: no host names or driver text). */
  database: string;
  /** The driver's message when unreachable, e.g. `connect ECONNREFUSED 127.0.0.1:5432`: for logs only. */
  detail?: string;
  /** `ok`, or e.g. `2 pending: the database's newest migration is from …, this version needs …`; `unknown` when the database did not answer. */
  migrations: string;
}

/** A reusable probe of one database. */
export interface DatabaseProbe {
  /** Runs one probe, settled within `timeoutSeconds` (a hung database gives `did not answer within …`). Never rejects. */
  check(): Promise<DatabaseProbeResult>;
  /** Drops the probe's own connection. Idempotent. */
  close(): Promise<void>;
}

type LatestQuery = () => Promise<string | null>;

/** Ends a pg client without waiting on a peer that may never answer. */
function drop(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  client.end().catch(() => undefined);
}

/** A query of the newest applied migration on a connection of the probe's own, reconnecting after any failure. */
function dedicatedConnection(url: string, timeoutSeconds: number): { latest: LatestQuery; close(): void } {
  let client: pg.Client | undefined;
  const ms = timeoutSeconds * 1000;
  return {
    async latest() {
      try {
        if (!client) {
          // The driver's own bounds come a little after the probe's, so a silent server reads as "did not answer".
          client = new pg.Client({ connectionString: url, connectionTimeoutMillis: ms + 500, query_timeout: ms + 500, statement_timeout: ms });
          client.on('error', () => undefined);
          await client.connect();
        }
        const { rows } = await client.query<{ latest: string | null }>(LATEST_APPLIED_MIGRATION_SQL);
        return rows[0]?.latest ?? null;
      } catch (error) {
        if (client) drop(client);
        client = undefined;
        throw error;
      }
    },
    close() {
      if (client) drop(client);
      client = undefined;
    },
  };
}

/** How far behind the database is, or `ok`. */
function migrationState(latest: string | null): string {
  if (latest === null) return 'none applied';
  if (Number(latest) >= LATEST_MIGRATION_MILLIS) return 'ok';
  return `pending: the newest migration applied is from ${new Date(Number(latest)).toISOString()}, this version needs the one from ${new Date(LATEST_MIGRATION_MILLIS).toISOString()}`;
}

/**
 * Creates the probe of `database`.
 * @param options.timeoutSeconds - bound of one probe (readiness uses 1 s).
 */
export function createDatabaseProbe(database: Database, options: { timeoutSeconds: number }): DatabaseProbe {
  const { timeoutSeconds } = options;
  const connection = postgresConnectionOf(database);
  const dedicated = connection ? dedicatedConnection(connection.url, timeoutSeconds) : undefined;
  const latest: LatestQuery =
    dedicated?.latest ??
    (async () => {
      const result = (await database.db.execute(sql.raw(LATEST_APPLIED_MIGRATION_SQL))) as unknown as { rows?: { latest: string | null }[] };
      return result.rows?.[0]?.latest ?? null;
    });
  let pending: Promise<string | null> | undefined;
  const hung: DatabaseProbeResult = { ok: false, database: `did not answer within ${timeoutSeconds} s`, migrations: 'unknown' };
  return {
    async check() {
      if (pending) return hung; // the previous probe is still waiting: the database has not answered it
      const started = latest();
      pending = started;
      void started.then(
        () => (pending = undefined),
        () => (pending = undefined),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000)));
      try {
        const answer = await Promise.race([started, timeout]);
        if (answer === 'timeout') return hung;
        const migrations = migrationState(answer);
        return { ok: migrations === 'ok', database: 'ok', migrations };
      } catch (error) {
        return { ok: false, database: 'unreachable', detail: (error as Error).message, migrations: 'unknown' };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      dedicated?.close();
    },
  };
}
