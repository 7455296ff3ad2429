/**
 * {@link LockoutStore} on PostgreSQL (design/security.md §2). The reservation is one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` statement (with the account's lookup by login, and the
 * lock state, in CTEs of that same statement): PostgreSQL locks the row and re-checks
 * the condition on its newest version, so concurrent reservations on any number of connections or
 * instances never exceed `maxFailures` in any sliding window, nor `maxConsecutiveFailures` in a row.
 * Times come from the caller's `now`, never SQL `now()`. The password step's reservation also reads which second
 * factors the account has registered (passkeys, a confirmed app), so the sign-in flow asks no store for them.
 *
 * `failure_times` holds when each counted attempt was reserved (entries older than the window are dropped
 * at the next reservation); `consecutive_failures` counts them since the last completed sign-in, whatever
 * their timing. The older `attempts` and `window_started_at` columns are kept consistent for readers: the
 * number of entries counted at the last change, and the oldest of them.
 */
import { and, eq, isNotNull, sql, type SQL } from 'drizzle-orm';
import type { Account, LockoutPolicy, LockoutStore } from '../identity/index.js';
import { addSeconds } from '../lib/index.js';
import { auditInsertWhen } from './audit-store.js';
import type { Db, Executor } from './database.js';
import { accounts, authenticatorRegistrations, lockouts, webauthnCredentials } from './schema.js';

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

/**
 * The reservation's `ON CONFLICT` clause: the window's newest entry is `now`; granted only while the account is
 * unlocked and under both budgets (a locked account is never reserved: its only password checks are the rare
 * locked checks).
 */
function reservationConflict(policy: LockoutPolicy, now: Date): SQL {
  const recent = recentFailures(policy, now);
  return sql`on conflict (account_id) do update set
      failure_times = ${recent} || ${at(now)},
      consecutive_failures = ${lockouts.consecutiveFailures} + 1,
      attempts = cardinality(${recent}) + 1,
      window_started_at = coalesce((${recent})[1], ${at(now)})
    where ${lockouts.lockedAt} is null and cardinality(${recent}) < ${policy.maxFailures} and ${lockouts.consecutiveFailures} < ${policy.maxConsecutiveFailures}`;
}

/** The reservation of `accountId` (SQL giving one account id, or no row): `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING account_id`. */
function reservation(accountIds: SQL, policy: LockoutPolicy, now: Date): SQL {
  return sql`insert into ${lockouts} (account_id, attempts, window_started_at, locked_at, failure_times, consecutive_failures)
    select id, 1, ${at(now)}, null, array[${at(now)}], 1 from (${accountIds}) as candidate
    ${reservationConflict(policy, now)}
    returning account_id`;
}

/**
 * The reservation of a code step that may complete the sign-in, as one `INSERT … ON CONFLICT DO UPDATE … WHERE …
 * RETURNING account_id` (a CTE body): granted under exactly the conditions of {@link reservation}, on the newest
 * version of the row; when `completes` (SQL, true when the code is right and unexpired as the statement sees it)
 * the granted attempt is no failure and the counts are reset as {@link LockoutStore.reset} does (window and
 * consecutive failures), otherwise it is counted as a reservation is. The row is changed once, so the reservation
 * and the reset of a right code share one statement; the caller consumes the code only when this returned a row.
 */
export function settledAttempt(accountId: string, policy: LockoutPolicy, now: Date, completes: SQL): SQL {
  const recent = recentFailures(policy, now);
  const right = sql`(${completes})`;
  return sql`insert into ${lockouts} (account_id, attempts, window_started_at, locked_at, failure_times, consecutive_failures)
    select ${accountId}::uuid, case when ${right} then 0 else 1 end, ${at(now)}, null,
      case when ${right} then '{}'::timestamptz[] else array[${at(now)}] end, case when ${right} then 0 else 1 end
    on conflict (account_id) do update set
      failure_times = case when ${right} then '{}'::timestamptz[] else ${recent} || ${at(now)} end,
      consecutive_failures = case when ${right} then 0 else ${lockouts.consecutiveFailures} + 1 end,
      attempts = case when ${right} then 0 else cardinality(${recent}) + 1 end,
      window_started_at = case when ${right} then ${at(now)} else coalesce((${recent})[1], ${at(now)}) end
    where ${lockouts.lockedAt} is null and cardinality(${recent}) < ${policy.maxFailures} and ${lockouts.consecutiveFailures} < ${policy.maxConsecutiveFailures}
    returning account_id`;
}

/** Whether `accountId` is locked, as the statement's snapshot sees it (SQL boolean, null without a row). */
export const lockedNow = (accountId: string): SQL => sql`(select locked_at is not null from ${lockouts} where account_id = ${accountId}::uuid)`;

/** {@link LockoutStore.releaseAttempt}'s UPDATE on `db`, to run or to put in another statement as a CTE body (`.getSQL()`). */
export function releaseOn(db: Db, accountId: string, reservedAt: Date) {
  const found = sql`array_position(${lockouts.failureTimes}, ${at(reservedAt)}) is not null`;
  return db
    .update(lockouts)
    .set({
      failureTimes: withoutOne(reservedAt),
      consecutiveFailures: sql`case when ${found} then greatest(${lockouts.consecutiveFailures} - 1, 0) else ${lockouts.consecutiveFailures} end`,
      attempts: sql`case when ${found} then greatest(${lockouts.attempts} - 1, 0) else ${lockouts.attempts} end`,
    })
    .where(eq(lockouts.accountId, accountId));
}

type Row = Record<string, unknown>;
const rowsOf = (result: unknown): Row[] => (result as { rows: Row[] }).rows;
const dateOf = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));

/** An `accounts` row read by raw SQL, as the account store gives it. */
function accountOf(row: Row): Account & { preferredFactor: 'app' | 'email' } {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    name: String(row.name),
    email: String(row.email),
    phone: String(row.phone),
    status: row.status as Account['status'],
    passwordHash: row.password_hash === null ? null : String(row.password_hash),
    preferredFactor: row.preferred_factor as 'app' | 'email',
    operator: row.operator === true,
    createdAt: dateOf(row.created_at),
    updatedAt: dateOf(row.updated_at),
  };
}

/** Creates the lockout store over `db`. */
export function createLockoutStore(db: Db): LockoutStore {
  return {
    async reserveAttempt(accountId, policy, now) {
      const result = await db.execute(sql`
        with reserved as (${reservation(sql`select ${accountId}::uuid as id`, policy, now)})
        select (select count(*) from reserved)::int as reserved, (select locked_at is not null from ${lockouts} where account_id = ${accountId}::uuid) as locked`);
      // Only an unlocked row is ever reserved, so a reservation never reports a lock. A refused one reports the lock
      // as the statement's snapshot saw it (a lock set at this very moment by another attempt counts as not yet).
      const [row] = rowsOf(result);
      if (Number(row?.reserved) === 1) return { reserved: true, locked: false };
      return { reserved: false, locked: row?.locked === true };
    },

    async reserveAttemptByLogin(login, policy, now) {
      const result = await db.execute(sql`
        with account as (
          select * from ${accounts} where lower(user_id) = lower(${login}) or lower(email) = lower(${login}) limit 1
        ), reserved as (${reservation(sql`select id from account where password_hash is not null`, policy, now)})
        select account.*, (select count(*) from reserved)::int as reserved, l.locked_at is not null as locked,
          (select count(*) from ${webauthnCredentials} w where w.account_id = account.id and w.removed_at is null)::int as enrolled_passkeys,
          exists (select 1 from ${authenticatorRegistrations} r where r.account_id = account.id and r.status = 'confirmed') as enrolled_app
        from account left join ${lockouts} l on l.account_id = account.id`);
      const [row] = rowsOf(result);
      if (!row) return { account: null, reserved: false, locked: false, enrolled: null };
      const reserved = Number(row.reserved) === 1;
      const enrolled = { passkeys: Number(row.enrolled_passkeys), confirmedApp: row.enrolled_app === true };
      return { account: accountOf(row), reserved, locked: !reserved && row.locked === true, enrolled };
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
      await releaseOn(db, accountId, reservedAt);
    },

    async lockIfExhausted(accountId, policy, now, record) {
      const lock = db
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
      if (!record) return (await lock).length === 1;
      // The failure's event, and the lock's when this call locked, in the statement that locks.
      const failed = record.failed ? sql`, failed as (${auditInsertWhen(record.failed)})` : sql``;
      const lockedEvent = record.locked ? sql`, locked_event as (${auditInsertWhen(record.locked, sql`exists (select 1 from locked)`)})` : sql``;
      const result = await db.execute(sql`with locked as (${lock.getSQL()})${failed}${lockedEvent} select (select count(*) from locked)::int as locked`);
      return Number(rowsOf(result)[0]?.locked) === 1;
    },

    async reset(accountId, now, record) {
      const reset = db
        .update(lockouts)
        .set({ attempts: 0, windowStartedAt: now, failureTimes: sql`'{}'::timestamptz[]`, consecutiveFailures: 0 })
        .where(eq(lockouts.accountId, accountId));
      if (!record) {
        await reset;
        return;
      }
      await db.execute(sql`with reset as (${reset.getSQL()} returning account_id) ${auditInsertWhen(record)}`);
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
