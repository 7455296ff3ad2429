/**
 * {@link SftpDecisionThrottle} on PostgreSQL with `rate-limiter-flexible`'s `RateLimiterPostgres` (the table of
 * storage/sign-in-throttle.ts, `rate_limiter_points`): one fixed-window counter per key fingerprint and source
 * network, shared by every instance, each count one atomic upsert. An IPv6 address counts by its /64, as at sign-in.
 */
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { SftpDecisionThrottle } from '../identity/index.js';
import type { Database } from './database.js';
import { clientNetworkKey, RATE_LIMITER_TABLE } from './sign-in-throttle.js';

/** At most `max` refused questions per `windowSeconds` for one key from one source network. */
export interface SftpDecisionThrottleSettings {
  max: number;
  windowSeconds: number;
}

/**
 * Creates the throttle over `database`.
 * @example createSftpDecisionThrottle(database, { max: 10, windowSeconds: 900 })
 */
export function createSftpDecisionThrottle(database: Database, settings: SftpDecisionThrottleSettings): SftpDecisionThrottle {
  const limiter = new RateLimiterPostgres({
    ...database.rateLimiterClient,
    tableName: RATE_LIMITER_TABLE,
    tableCreated: true,
    keyPrefix: 'sftp:key_ip',
    points: settings.max,
    duration: settings.windowSeconds,
    clearExpiredByTimeout: false, // the sign-in throttle's limiter sweeps the shared table
  });
  const keyOf = (fingerprint: string, ip: string) => `${fingerprint}|${clientNetworkKey(ip)}`;
  return {
    async consume(fingerprint, ip) {
      try {
        await limiter.consume(keyOf(fingerprint, ip));
        return { allowed: true };
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error; // the database failed: fail closed
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
      }
    },
    async forgive(fingerprint, ip) {
      await limiter.reward(keyOf(fingerprint, ip), 1);
    },
  };
}
