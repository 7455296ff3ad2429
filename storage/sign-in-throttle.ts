/**
 * {@link SignInThrottle} on PostgreSQL with `rate-limiter-flexible`'s `RateLimiterPostgres`: one fixed-window
 * counter per client network and one per interaction, rows of `rate_limiter_points` (created by migration
 * 0007, so no instance runs DDL). Each count is one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement,
 * so concurrent attempts on any number of instances are all counted. Runs on the `pg` pool or on PGlite
 * through {@link Database.rateLimiterClient}. Windows follow the real time (`Date.now()`), as the library does.
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

/**
 * Creates the throttle over `database`. Expired rows (an hour past their window) are deleted by the library
 * every five minutes, from each process (an idempotent DELETE).
 * @example createSignInThrottle(database, { perIp: { max: 100, windowSeconds: 900 }, perInteraction: { max: 10, windowSeconds: 900 } })
 */
export function createSignInThrottle(database: Database, settings: SignInThrottleSettings): SignInThrottle {
  const store = { ...database.rateLimiterClient, tableName: RATE_LIMITER_TABLE, tableCreated: true };
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
