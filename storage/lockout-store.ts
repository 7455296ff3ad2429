/**
 * {@link LockoutStore} on PostgreSQL (design/security.md §2). The reservation is one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` statement: PostgreSQL locks the row and re-checks
 * the condition on its newest version, so concurrent reservations on any number of connections or
 * instances never exceed `maxFailures` per window. Times come from the caller's `now`, never SQL `now()`.
 */
import { and, eq, gte, isNotNull, isNull, sql } from 'drizzle-orm';
import type { LockoutStore } from '../identity/index.js';
import { addSeconds } from '../lib/index.js';
import type { Db, Executor } from './database.js';
import { lockouts } from './schema.js';

/**
 * Clears the lock and the count of `accountId` (a new window starts at `now`) on `executor` — the store's own
 * connection, or a transaction the caller opened (a password reset clears the lockout in the transaction that
 * sets the new password). @returns true when the account was locked.
 */
export async function clearLockoutOn(executor: Executor, accountId: string, now: Date): Promise<boolean> {
  const unlocked = await executor
    .update(lockouts)
    .set({ lockedAt: null, lockedCheckAt: null, attempts: 0, windowStartedAt: now })
    .where(and(eq(lockouts.accountId, accountId), isNotNull(lockouts.lockedAt)))
    .returning({ accountId: lockouts.accountId });
  if (unlocked.length === 0) await executor.update(lockouts).set({ attempts: 0, windowStartedAt: now }).where(eq(lockouts.accountId, accountId));
  return unlocked.length === 1;
}

/** Creates the lockout store over `db`. */
export function createLockoutStore(db: Db): LockoutStore {
  async function reset(accountId: string, now: Date): Promise<void> {
    await db.update(lockouts).set({ attempts: 0, windowStartedAt: now }).where(eq(lockouts.accountId, accountId));
  }

  return {
    async reserveAttempt(accountId, policy, now) {
      // A window that started at or before this instant has ended.
      const endedBefore = addSeconds(now, -policy.windowSeconds);
      const windowEnded = sql`${lockouts.windowStartedAt} <= ${endedBefore.toISOString()}::timestamptz`;
      const reserved = await db
        .insert(lockouts)
        .values({ accountId, attempts: 1, windowStartedAt: now, lockedAt: null })
        .onConflictDoUpdate({
          target: lockouts.accountId,
          set: {
            attempts: sql`case when ${windowEnded} then 1 else ${lockouts.attempts} + 1 end`,
            windowStartedAt: sql`case when ${windowEnded} then ${now.toISOString()}::timestamptz else ${lockouts.windowStartedAt} end`,
          },
          // A locked account gets no new window: its only password checks are the rare locked checks.
          setWhere: sql`${lockouts.lockedAt} is null and (${windowEnded} or ${lockouts.attempts} < ${policy.maxFailures})`,
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
        .where(
          and(
            eq(lockouts.accountId, accountId),
            isNotNull(lockouts.lockedAt),
            sql`(${lockouts.lockedCheckAt} is null or ${lockouts.lockedCheckAt} <= ${due.toISOString()}::timestamptz)`,
          ),
        )
        .returning({ accountId: lockouts.accountId });
      return granted.length === 1;
    },

    async releaseAttempt(accountId) {
      await db
        .update(lockouts)
        .set({ attempts: sql`greatest(${lockouts.attempts} - 1, 0)` })
        .where(eq(lockouts.accountId, accountId));
    },

    async lockIfExhausted(accountId, maxFailures, now) {
      const locked = await db
        .update(lockouts)
        .set({ lockedAt: now })
        .where(and(eq(lockouts.accountId, accountId), gte(lockouts.attempts, maxFailures), isNull(lockouts.lockedAt)))
        .returning({ accountId: lockouts.accountId });
      return locked.length === 1;
    },

    reset,

    unlock: (accountId, now) => clearLockoutOn(db, accountId, now),

    async find(accountId) {
      const [row] = await db
        .select({ accountId: lockouts.accountId, attempts: lockouts.attempts, windowStartedAt: lockouts.windowStartedAt, lockedAt: lockouts.lockedAt })
        .from(lockouts)
        .where(eq(lockouts.accountId, accountId));
      return row ?? null;
    },
  };
}
