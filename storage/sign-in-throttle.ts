/**
 * {@link SignInThrottle} on PostgreSQL with `rate-limiter-flexible`'s `RateLimiterPostgres`: one fixed-window
 * counter per client network and one per interaction, rows of `rate_limiter_points` (created by migration
 * 0007, so no instance runs DDL). Each count is an `INSERT … ON CONFLICT DO UPDATE … RETURNING` of its row, and
 * the two counts of one attempt go in one statement ({@link countingInOneStatement}), so concurrent attempts on
 * any number of instances are all counted, at one round trip per attempt (and one per forgiven attempt). Runs on
 * the `pg` pool or on PGlite through {@link Database.rateLimiterClient}. Windows follow the real time
 * (`Date.now()`), as the library does.
 */
import ipaddr from 'ipaddr.js';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { SignInThrottle, ThrottleDecision } from '../identity/index.js';
import type { Database } from './database.js';

/** The two limits: at most `max` attempts per `windowSeconds`. */
export interface SignInThrottleSettings {
  perIp: { max: number; windowSeconds: number };
  perInteraction: { max: number; windowSeconds: number };
}

/** The table rate-limiter-flexible writes (storage/schema.ts `rateLimiterPoints`). */
export const RATE_LIMITER_TABLE = 'rate_limiter_points';

/**
 * The counter key of a client address: an IPv4 address as is (IPv4-mapped IPv6 too), an IPv6 address by its
 * /64 network, which one subscriber usually holds whole; anything unparsable (or no address) as `unknown`.
 */
export function clientNetworkKey(ip: string | undefined): string {
  if (!ip || !ipaddr.isValid(ip)) return 'unknown';
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}

/** A `pg` query as rate-limiter-flexible sends it: a named statement with its values. */
interface StoreQuery {
  name?: string;
  text: string;
  values?: unknown[];
}
/** What rate-limiter-flexible reads of a query result. */
interface StoreResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}
type StoreClient = { query(query: StoreQuery): Promise<StoreResult> };

/** The name rate-limiter-flexible's PostgreSQL store gives its counter upsert (`_upsert` without `forceExpire`). */
const UPSERT = `${RATE_LIMITER_TABLE}:rlflx-upsert`;

/**
 * The store client with the counts of one attempt sent as one statement. The throttle asks both limiters at once,
 * and each asks its store for the upsert of its counter (`rlflx-upsert`, values key, points, new expiry, now in
 * ms: add the points, or start over with them when the row's window has ended, returning points and expiry).
 * The upserts asked for in one turn of the event loop go as one multi-row `INSERT … ON CONFLICT DO UPDATE` with
 * the library's own rule for each row, each answered with its row; every counter is still counted atomically by
 * PostgreSQL, on any number of instances. The rule is that of rate-limiter-flexible 11's `RateLimiterPostgres`
 * `_upsert`, with the latest `now` of the batch; test/sign-in/throttle*.test.ts hold it to the limits' meaning. Two
 * upserts of one key never share a statement (a row can be changed once per statement); every other query
 * (the forced upsert, reads, the sweep of expired rows) passes through as it is.
 */
function countingInOneStatement(client: StoreClient): StoreClient {
  type Waiting = { query: StoreQuery; key: string; resolve: (result: StoreResult) => void; reject: (error: unknown) => void };
  let queued: Waiting[] = [];

  /** Sends `batch` (distinct keys, two or more) as one statement and answers each with its row. */
  async function send(batch: Waiting[]): Promise<void> {
    const column = (i: number) => batch.map((w) => w.query.values![i]);
    const result = await client.query({
      name: `${RATE_LIMITER_TABLE}:connect-iam-upsert-many`,
      text: `INSERT INTO "${RATE_LIMITER_TABLE}" AS t (key, points, expire)
          SELECT * FROM unnest($1::varchar[], $2::integer[], $3::bigint[])
        ON CONFLICT (key) DO UPDATE SET
          points = CASE WHEN t.expire <= $4 THEN excluded.points ELSE t.points + excluded.points END,
          expire = CASE WHEN t.expire <= $4 THEN excluded.expire ELSE t.expire END
        RETURNING key, points, expire`,
      values: [column(0), column(1), column(2), Math.max(...(column(3) as number[]))],
    });
    const byKey = new Map(result.rows.map((row) => [String(row.key), row]));
    for (const waiting of batch) {
      const row = byKey.get(waiting.key);
      if (row) waiting.resolve({ rows: [{ points: row.points, expire: row.expire }], rowCount: 1 });
      else waiting.reject(new Error('rate limit counter not returned'));
    }
  }

  /** Sends what was queued in this turn: one statement per round of distinct keys, a lone upsert as the library wrote it. */
  function flush(): void {
    let rest = queued;
    queued = [];
    while (rest.length) {
      const keys = new Set<string>();
      const batch = rest.filter((w) => !keys.has(w.key) && keys.add(w.key));
      rest = rest.filter((w) => !batch.includes(w));
      const [first] = batch;
      if (batch.length === 1) client.query(first!.query).then(first!.resolve, first!.reject);
      else send(batch).catch((error: unknown) => batch.forEach((w) => w.reject(error)));
    }
  }

  return {
    query(query) {
      if (query.name !== UPSERT || query.values?.length !== 4) return client.query(query);
      return new Promise((resolve, reject) => {
        if (queued.length === 0) setImmediate(flush);
        queued.push({ query, key: String(query.values![0]), resolve, reject });
      });
    },
  };
}

/**
 * Creates the throttle over `database`. Expired rows (an hour past their window) are deleted by the library
 * every five minutes, from each process (an idempotent DELETE).
 * @example createSignInThrottle(database, { perIp: { max: 100, windowSeconds: 900 }, perInteraction: { max: 10, windowSeconds: 900 } })
 */
export function createSignInThrottle(database: Database, settings: SignInThrottleSettings): SignInThrottle {
  const { storeType, storeClient } = database.rateLimiterClient;
  const store = { storeType, storeClient: countingInOneStatement(storeClient as unknown as StoreClient), tableName: RATE_LIMITER_TABLE, tableCreated: true };
  const perIp = new RateLimiterPostgres({ ...store, keyPrefix: 'sign_in:ip', points: settings.perIp.max, duration: settings.perIp.windowSeconds });
  const perInteraction = new RateLimiterPostgres({
    ...store,
    keyPrefix: 'sign_in:interaction',
    points: settings.perInteraction.max,
    duration: settings.perInteraction.windowSeconds,
    clearExpiredByTimeout: false, // one sweeper per process is enough: both share the table
  });

  return {
    async consume(source) {
      const [ip, interaction] = await Promise.allSettled([perIp.consume(clientNetworkKey(source.ip)), perInteraction.consume(source.interactionId)]);
      const counts = [{ limit: 'ip', counted: ip }, { limit: 'interaction', counted: interaction }] as const;
      let decision: ThrottleDecision = { allowed: true };
      for (const { limit, counted } of counts) {
        if (counted.status === 'fulfilled') continue;
        if (!(counted.reason instanceof RateLimiterRes)) throw counted.reason; // the database failed: fail closed
        const retryAfterSeconds = Math.max(1, Math.ceil(counted.reason.msBeforeNext / 1000));
        if (decision.allowed || retryAfterSeconds > decision.retryAfterSeconds) decision = { allowed: false, limit, retryAfterSeconds };
      }
      return decision;
    },
    async forgive(source) {
      await perIp.reward(clientNetworkKey(source.ip), 1);
    },
  };
}
