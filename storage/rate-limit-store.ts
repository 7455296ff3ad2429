/**
 * {@link RateLimitStore} on PostgreSQL: fixed-window counters in `rate_limit_counters`, shared by every
 * instance. Each hit is one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement; PostgreSQL locks the row,
 * so concurrent hits on any number of instances are all counted. Times come from the caller's `now`.
 */
import { eq, sql } from 'drizzle-orm';
import type { RateLimitStore } from '../identity/index.js';
import { addSeconds } from '../lib/index.js';
import type { Db } from './database.js';
import { rateLimitCounters } from './schema.js';

/** Creates the rate-limit store over `db`. */
export function createRateLimitStore(db: Db): RateLimitStore {
  return {
    async hit(key, limit, now) {
      const windowEnded = sql`${rateLimitCounters.windowStartedAt} <= ${addSeconds(now, -limit.windowSeconds).toISOString()}::timestamptz`;
      const [row] = await db
        .insert(rateLimitCounters)
        .values({ key, windowStartedAt: now, count: 1 })
        .onConflictDoUpdate({
          target: rateLimitCounters.key,
          set: {
            count: sql`case when ${windowEnded} then 1 else ${rateLimitCounters.count} + 1 end`,
            windowStartedAt: sql`case when ${windowEnded} then ${now.toISOString()}::timestamptz else ${rateLimitCounters.windowStartedAt} end`,
          },
        })
        .returning({ count: rateLimitCounters.count });
      return (row?.count ?? Number.POSITIVE_INFINITY) <= limit.max;
    },

    async giveBack(key) {
      await db
        .update(rateLimitCounters)
        .set({ count: sql`greatest(${rateLimitCounters.count} - 1, 0)` })
        .where(eq(rateLimitCounters.key, key));
    },
  };
}
