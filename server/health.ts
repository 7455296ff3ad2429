/**
 * Health endpoints for load balancers and orchestrators, served by the IdP and the admin console before
 * anything else (no session, no CSRF, no database call on the request's path):
 * - `GET /healthz` (liveness): 200 `{"status":"ok"}` whenever the process answers HTTP.
 * - `GET /readyz` (readiness): 200 `{"status":"ready",…}` when the database answered within 1 s, its
 *   migrations are current, start-up has finished and the process is not shutting down; otherwise 503 with
 *   `status` `starting`, `not_ready` or `shutting_down` and the failing check.
 *
 * Both answer at once, even while the database hangs: readiness is kept by a background probe (every
 * second, each bounded to 1 s, on a connection outside the request pool), and `/readyz` reports its latest
 * state. Bodies are JSON, `Cache-Control: no-store`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/index.js';
import { createDatabaseProbe, type Database, type DatabaseProbe, type DatabaseProbeResult } from '../storage/index.js';

/** Seconds between two probes of the database. */
export const READINESS_INTERVAL_SECONDS = 1;
/** Seconds the database has to answer a probe. */
export const READINESS_TIMEOUT_SECONDS = 1;

/** The body of `/readyz`. */
export interface ReadinessReport {
  status: 'ready' | 'starting' | 'not_ready' | 'shutting_down';
  /** Each check: `ok` or what is wrong (safe to show: no host names, no driver text). */
  checks: { database: string; migrations: string; process: string };
  /** When the database was last probed (ISO 8601); null before the first probe. */
  checkedAt: string | null;
}

/** The readiness of one process, shared by its IdP and console. */
export interface Readiness {
  /** Starts probing `database` in the background (and at once). */
  watch(database: Database): void;
  /** From now on `/readyz` answers 503 `shutting_down` (SIGTERM). */
  beginShutdown(): void;
  readonly shuttingDown: boolean;
  /** The current report; `started` false gives `starting`. */
  report(started: boolean): ReadinessReport;
  /** Stops probing and drops the probe's connection. Idempotent. */
  close(): Promise<void>;
}

/** Creates the readiness state; it reports `starting` until {@link Readiness.watch} has a first probe result. */
export function createReadiness(logger: Logger): Readiness {
  let probe: DatabaseProbe | undefined;
  let last: DatabaseProbeResult | undefined;
  let checkedAt: Date | null = null;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let shuttingDown = false;

  const run = async () => {
    if (!probe || closed) return;
    const result = await probe.check();
    if (last?.ok !== result.ok || last.database !== result.database || last.migrations !== result.migrations) {
      if (result.ok) logger.info({ database: result.database, migrations: result.migrations }, 'ready: the database answers and its migrations are current');
      else logger.warn({ database: result.database, migrations: result.migrations, detail: result.detail }, 'not ready: /readyz answers 503');
    }
    last = result;
    checkedAt = new Date();
    if (!closed) {
      timer = setTimeout(() => void run(), READINESS_INTERVAL_SECONDS * 1000);
      timer.unref();
    }
  };

  return {
    watch(database) {
      probe = createDatabaseProbe(database, { timeoutSeconds: READINESS_TIMEOUT_SECONDS });
      void run();
    },
    beginShutdown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
    report(started) {
      // A probe result older than this means the loop itself is stuck: do not vouch for the database.
      const stale = checkedAt !== null && Date.now() - checkedAt.getTime() > (READINESS_INTERVAL_SECONDS + READINESS_TIMEOUT_SECONDS + 2) * 1000;
      const database = !last ? 'not checked yet' : stale ? `did not answer within ${READINESS_TIMEOUT_SECONDS} s` : last.database;
      const migrations = !last || stale ? 'unknown' : last.migrations;
      const checks = { database, migrations, process: shuttingDown ? 'shutting down' : started ? 'ok' : 'starting' };
      const status = shuttingDown ? 'shutting_down' : !started || !last ? 'starting' : database === 'ok' && migrations === 'ok' ? 'ready' : 'not_ready';
      return { status, checks, checkedAt: checkedAt?.toISOString() ?? null };
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await probe?.close();
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/**
 * A request handler for `/healthz` and `/readyz` (GET or HEAD); call it first. `isStarted` says whether this
 * server finished starting (the console: once it discovered the IdP).
 * @returns true when it answered the request, false for any other path.
 */
export function healthEndpoints(readiness: Readiness, isStarted: () => boolean): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/healthz' && path !== '/readyz') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      json(res, 405, { error: 'method_not_allowed' });
      return true;
    }
    if (path === '/healthz') {
      json(res, 200, { status: 'ok' });
      return true;
    }
    const report = readiness.report(isStarted());
    json(res, report.status === 'ready' ? 200 : 503, report);
    return true;
  };
}
