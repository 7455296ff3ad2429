/**
 * {@link LockoutStore} on PostgreSQL (design/security.md §2). The reservation is one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` statement: PostgreSQL locks the row and re-checks
 * the condition on its newest version, so concurrent reservations on any number of connections or
 * instances never exceed `maxFailures` in any sliding window, nor `maxConsecutiveFailures` in a row.
 * Times come from the caller's `now`, never SQL `now()`.
 *
 * `failure_times` holds when each counted attempt was reserved (entries older than the window are dropped
 * at the next reservation); `consecutive_failures` counts them since the last completed sign-in, whatever
 * their timing. The older `attempts` and `window_started_at` columns are kept consistent for readers: the
 * number of entries counted at the last change, and the oldest of them.
 */
import { and, eq, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { LockoutPolicy, LockoutStore } from '../identity/index.js';
import { addSeconds } from '../lib/index.js';
import type { Db, Executor } from './database.js';
import { lockouts } from './schema.js';

const at = (instant: Date) => sql`${instant.toISOString()}::timestamptz`;

/** The entries of `failure_times` younger than the window that ends at `now`, oldest first (SQL array). */
const recentFailures = (policy: LockoutPolicy, now: Date): SQL =>
  sql`array(select f.t from unnest(${lockouts.failureTimes}) as f(t) where f.t > ${at(addSeconds(now, -policy.windowSeconds))} order by f.t)`;

/** `failure_times` without one occurrence of `instant` (unchanged when it holds none). */
const withoutOne = (instant: Date): SQL => {
  const position = sql`array_position(${lockouts.failureTimes}, ${at(instant)})`;
  return sql`case when ${position} is null then ${lockouts.failureTimes} else ${lockouts.failureTimes}[:${position} - 1] || ${lockouts.failureTimes}[${position} + 1:] end`;
};

/**
 * Clears the lock and every count of `accountId` on `executor` — the store's own connection, or a transaction
 * the caller opened (a password reset clears the lockout in the transaction that sets the new password).
 * @returns true when the account was locked.
 */
export async function clearLockoutOn(executor: Executor, accountId: string, now: Date): Promise<boolean> {
  const cleared = { attempts: 0, windowStartedAt: now, failureTimes: sql`'{}'::timestamptz[]`, consecutiveFailures: 0 };
  const unlocked = await executor
    .update(lockouts)
    .set({ ...cleared, lockedAt: null, lockedCheckAt: null })
    .where(and(eq(lockouts.accountId, accountId), isNotNull(lockouts.lockedAt)))
    .returning({ accountId: lockouts.accountId });
  if (unlocked.length === 0) await executor.update(lockouts).set(cleared).where(eq(lockouts.accountId, accountId));
  return unlocked.length === 1;
}

/** Creates the lockout store over `db`. */
export function createLockoutStore(db: Db): LockoutStore {
  return {
    async reserveAttempt(accountId, policy, now) {
      const recent = recentFailures(policy, now);
      const reserved = await db
        .insert(lockouts)
        .values({ accountId, attempts: 1, windowStartedAt: now, lockedAt: null, failureTimes: sql`array[${at(now)}]`, consecutiveFailures: 1 })
        .onConflictDoUpdate({
          target: lockouts.accountId,
          set: {
            failureTimes: sql`${recent} || ${at(now)}`,
            consecutiveFailures: sql`${lockouts.consecutiveFailures} + 1`,
            attempts: sql`cardinality(${recent}) + 1`,
            windowStartedAt: sql`coalesce((${recent})[1], ${at(now)})`,
          },
          // A locked account is never reserved: its only password checks are the rare locked checks.
          setWhere: sql`${lockouts.lockedAt} is null and cardinality(${recent}) < ${policy.maxFailures} and ${lockouts.consecutiveFailures} < ${policy.maxConsecutiveFailures}`,
        })
        .returning({ accountId: lockouts.accountId });
      // Only an unlocked row is ever reserved (setWhere), so a reservation never reports a lock.
      if (reserved[0]) return { reserved: true, locked: false };
      const [state] = await db.select({ lockedAt: lockouts.lockedAt }).from(lockouts).where(eq(lockouts.accountId, accountId));
      return { reserved: false, locked: state?.lockedAt != null };
    },

    async reserveLockedCheck(accountId, intervalSeconds, now) {
      const due = addSeconds(now, -intervalSeconds);
      const granted = await db
        .update(lockouts)
        .set({ lockedCheckAt: now })
        .where(and(eq(lockouts.accountId, accountId), isNotNull(lockouts.lockedAt), sql`(${lockouts.lockedCheckAt} is null or ${lockouts.lockedCheckAt} <= ${at(due)})`))
        .returning({ accountId: lockouts.accountId });
      return granted.length === 1;
    },

    async releaseAttempt(accountId, reservedAt) {
      const found = sql`array_position(${lockouts.failureTimes}, ${at(reservedAt)}) is not null`;
      await db
        .update(lockouts)
        .set({
          failureTimes: withoutOne(reservedAt),
          consecutiveFailures: sql`case when ${found} then greatest(${lockouts.consecutiveFailures} - 1, 0) else ${lockouts.consecutiveFailures} end`,
          attempts: sql`case when ${found} then greatest(${lockouts.attempts} - 1, 0) else ${lockouts.attempts} end`,
        })
        .where(eq(lockouts.accountId, accountId));
    },

    async lockIfExhausted(accountId, policy, now) {
      const locked = await db
        .update(lockouts)
        .set({ lockedAt: now })
        .where(
          and(
            eq(lockouts.accountId, accountId),
            sql`${lockouts.lockedAt} is null`,
            sql`(cardinality(${recentFailures(policy, now)}) >= ${policy.maxFailures} or ${lockouts.consecutiveFailures} >= ${policy.maxConsecutiveFailures})`,
          ),
        )
        .returning({ accountId: lockouts.accountId });
      return locked.length === 1;
    },

    async reset(accountId, now) {
      await db
        .update(lockouts)
        .set({ attempts: 0, windowStartedAt: now, failureTimes: sql`'{}'::timestamptz[]`, consecutiveFailures: 0 })
        .where(eq(lockouts.accountId, accountId));
    },

    unlock: (accountId, now) => clearLockoutOn(db, accountId, now),

    async find(accountId) {
      const [row] = await db
        .select({
          accountId: lockouts.accountId,
          attempts: lockouts.attempts,
          windowStartedAt: lockouts.windowStartedAt,
          lockedAt: lockouts.lockedAt,
          consecutiveFailures: lockouts.consecutiveFailures,
        })
        .from(lockouts)
        .where(eq(lockouts.accountId, accountId));
      return row ?? null;
    },
  };
}
