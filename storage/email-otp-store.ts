/**
 * {@link EmailOtpStore} on PostgreSQL. Codes are stored as SHA-256 hashes by the caller, each with its outbox
 * message in one transaction. A code becomes the sign-in's one working code only when its email is delivered
 * ({@link otpDeliveredStep}, run by the outbox's `markSent`); consumption is a conditional UPDATE, so exactly
 * one of any number of concurrent callers consumes a challenge. A sign-in's check ({@link EmailOtpStore.checkCode})
 * reserves its lockout attempt, consumes the code, resets the counts and records the sign-in in one statement.
 */
import { and, desc, eq, gte, gt, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { EmailOtpDelivery, EmailOtpStore } from '../identity/index.js';
import type { Db } from './database.js';
import { accountViewFromJson, accountViewJson, type AccountViewJson } from './account-store.js';
import { auditInsertWhen } from './audit-store.js';
import { lockedNow, releaseOn, settledAttempt } from './lockout-store.js';
import { withdrawPendingOn, type OutboxWriter } from './mail-outbox-store.js';
import { isUuid } from './postgres-errors.js';
import { emailOtpChallenges, mailOutbox } from './schema.js';

const ofBinding = (accountId: string, bindingId: string) => and(eq(emailOtpChallenges.accountId, accountId), eq(emailOtpChallenges.bindingId, bindingId));

/** The challenges of a binding with their outbox message (joined by reference). */
function withDelivery(db: Db) {
  return db
    .select({ challenge: emailOtpChallenges, status: mailOutbox.status, attempts: mailOutbox.attempts, lastError: mailOutbox.lastError })
    .from(emailOtpChallenges)
    .leftJoin(mailOutbox, and(eq(mailOutbox.purpose, 'email_otp'), eq(mailOutbox.reference, sql`${emailOtpChallenges.id}::text`)));
}

type DeliveryRow = { challenge: typeof emailOtpChallenges.$inferSelect; status: string | null; attempts: number | null; lastError: string | null };
const toDelivery = (row: DeliveryRow): EmailOtpDelivery => ({
  ...row.challenge,
  mail: row.status === null ? null : { status: row.status as 'pending' | 'sent' | 'failed', attempts: row.attempts ?? 0, lastError: row.lastError },
});

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * The outbox's step for a delivered code ({@link DeliveredStep}, in the statement that marks its email sent): records
 * that challenge `reference`'s email was delivered and leaves the newest delivered code of its sign-in as the only
 * delivered one that works (older unconsumed codes are consumed, newer undelivered ones stay). One UPDATE over the
 * binding's rows: the newest delivered code is the delivered challenge itself (unless consumed) or the newest code
 * delivered before, as the statement's snapshot sees them.
 */
export const otpDeliveredStep = {
  inStatement(reference: SQL, now: Date): SQL {
    const at = sql`${now.toISOString()}::timestamptz`;
    const older = sql`n.id is not null and c.consumed_at is null and c.id <> n.id and (c.created_at, c.id) < (n.created_at, n.id)`;
    return sql`with target as (
        select id, account_id, binding_id, created_at, consumed_at from ${emailOtpChallenges}
        where id = (select case when r ~ ${UUID_PATTERN} then r::uuid end from (select ${reference} as r) as ref)
      ), newest as (
        select id, created_at from (
          select id, created_at from target where consumed_at is null
          union all
          select d.id, d.created_at from ${emailOtpChallenges} d join target t on d.account_id = t.account_id and d.binding_id = t.binding_id
          where d.consumed_at is null and d.delivered_at is not null
        ) as candidates order by created_at desc, id desc limit 1
      )
      update ${emailOtpChallenges} c set
        delivered_at = case when c.id = t.id then ${at} else c.delivered_at end,
        consumed_at = case when ${older} then ${at} else c.consumed_at end
      from target t left join newest n on true
      where c.account_id = t.account_id and c.binding_id = t.binding_id and (c.id = t.id or (${older}))
      returning c.id`;
  },
};

/** Creates the email OTP store over `db`; `outbox` writes each code's message in the code's transaction. */
export function createEmailOtpStore(db: Db, outbox: OutboxWriter): EmailOtpStore {
  return {
    async issue(challenge, replaces, mail) {
      return db.transaction(async (tx) => {
        if (replaces !== undefined) {
          // Row lock on the replaced code: of concurrent resends, the first to commit issues; the others then see
          // its newer challenge and issue nothing.
          const [replaced] = await tx.select().from(emailOtpChallenges).where(and(eq(emailOtpChallenges.id, replaces), eq(emailOtpChallenges.bindingId, challenge.bindingId))).for('update');
          if (!replaced) return false;
          const [newer] = await tx
            .select({ id: emailOtpChallenges.id })
            .from(emailOtpChallenges)
            .where(and(ofBinding(challenge.accountId, challenge.bindingId), ne(emailOtpChallenges.id, replaces), gte(emailOtpChallenges.createdAt, replaced.createdAt)))
            .limit(1);
          if (newer) return false;
        }
        // Earlier codes still waiting for delivery are replaced by this one: their messages are withdrawn (unless a
        // worker is sending one right now) and they are consumed, so an outage does not pile up codes.
        const waiting = await tx
          .select({ id: emailOtpChallenges.id })
          .from(emailOtpChallenges)
          .where(and(ofBinding(challenge.accountId, challenge.bindingId), isNull(emailOtpChallenges.consumedAt), isNull(emailOtpChallenges.deliveredAt)));
        const withdrawn = await withdrawPendingOn(tx, 'email_otp', waiting.map((c) => c.id));
        for (const id of withdrawn) await tx.update(emailOtpChallenges).set({ consumedAt: challenge.createdAt }).where(eq(emailOtpChallenges.id, id));
        await tx.insert(emailOtpChallenges).values(challenge);
        await outbox.enqueueOn(tx, mail, challenge.createdAt);
        return true;
      });
    },

    async issueFirst(challenge, mail, leaseSeconds, release) {
      const at = (instant: Date) => sql`${instant.toISOString()}::timestamptz`;
      // The right password's reservation, given back in this statement (the lockout row is no other CTE's).
      const released = release ? sql`released as (${releaseOn(db, release.accountId, release.reservedAt).getSQL()}), ` : sql``;
      const result = await db.execute(sql`
        with ${released}issued as (
          insert into ${emailOtpChallenges} (id, account_id, binding_id, code_hash, created_at, expires_at, consumed_at)
          select ${challenge.id}::uuid, ${challenge.accountId}::uuid, ${challenge.bindingId}, ${challenge.codeHash}, ${at(challenge.createdAt)}, ${at(challenge.expiresAt)}, null
          where not exists (select 1 from ${emailOtpChallenges} where account_id = ${challenge.accountId}::uuid and binding_id = ${challenge.bindingId})
          returning id
        ), queued as (
          insert into ${mailOutbox} (id, purpose, reference, account_id, message, status, attempts, created_at, next_attempt_at, locked_until)
          select ${mail.id}::uuid, ${mail.purpose}, ${mail.reference}, ${mail.accountId}::uuid, ${outbox.sealedMessage(mail)}, 'pending', 1, ${at(challenge.createdAt)}, now(),
            now() + make_interval(secs => ${leaseSeconds}::double precision)
          from issued
          returning id
        )
        select count(*)::int as issued from queued`);
      return Number((result as unknown as { rows: { issued: number }[] }).rows[0]?.issued ?? 0) === 1;
    },

    async findLatest(accountId, bindingId) {
      if (!isUuid(accountId)) return null;
      const [row] = await withDelivery(db).where(ofBinding(accountId, bindingId)).orderBy(desc(emailOtpChallenges.createdAt), desc(emailOtpChallenges.id)).limit(1);
      return row ? toDelivery(row) : null;
    },

    async listUnconsumed(accountId, bindingId) {
      if (!isUuid(accountId)) return [];
      const rows = await withDelivery(db)
        .where(and(ofBinding(accountId, bindingId), isNull(emailOtpChallenges.consumedAt)))
        .orderBy(desc(emailOtpChallenges.createdAt), desc(emailOtpChallenges.id))
        .limit(20);
      return rows.map(toDelivery);
    },

    async checkCode(accountId, bindingId, codeHash, now, attempt) {
      if (!isUuid(accountId)) return { reserved: false, locked: false, candidates: [], consumedId: null, view: null };
      const at = sql`${now.toISOString()}::timestamptz`;
      // The attempt is reserved (or, for the right code, settled) before anything is consumed: `consumed` waits for
      // `reserved`'s row, so a refused attempt checks nothing. The lockout row is changed once, by `reserved`.
      const signedIn = attempt.signedIn ? sql`, signed_in as (${auditInsertWhen(attempt.signedIn, sql`exists (select 1 from consumed)`)})` : sql``;
      const result = await db.execute(sql`
        with candidates as (
          select id, code_hash, expires_at, created_at from ${emailOtpChallenges}
          where account_id = ${accountId}::uuid and binding_id = ${bindingId} and consumed_at is null
          order by created_at desc, id desc limit 20
        ), hit as (
          select id from (select id, expires_at from candidates where code_hash = ${codeHash} order by created_at desc, id desc limit 1) as newest
          where expires_at > ${at}
        ), reserved as (${settledAttempt(accountId, attempt.policy, now, sql`exists (select 1 from hit)`)}
        ), consumed as (
          update ${emailOtpChallenges} c set consumed_at = ${at}
          where c.id = (select id from hit) and c.consumed_at is null and c.expires_at > ${at} and exists (select 1 from reserved)
          returning c.id
        )${signedIn}
        select k.id, k.code_hash, k.expires_at, (select id from consumed) as consumed_id, (select count(*) from reserved)::int as reserved,
          ${lockedNow(accountId)} as locked, ${accountViewJson(sql`${accountId}::text`)} as view
        from (select 1) as one left join candidates k on true order by k.created_at desc, k.id desc`);
      const rows = (result as unknown as { rows: { id: string | null; code_hash: string; expires_at: string | Date; consumed_id: string | null; reserved: number; locked: boolean | null; view: AccountViewJson | string | null }[] }).rows;
      const [first] = rows;
      const reserved = Number(first?.reserved) === 1;
      return {
        reserved,
        locked: !reserved && first?.locked === true,
        candidates: reserved ? rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, codeHash: r.code_hash, expiresAt: new Date(r.expires_at) })) : [],
        consumedId: first?.consumed_id ?? null,
        view: first?.view ? accountViewFromJson(first.view) : null,
      };
    },

    async consume(id, now) {
      if (!isUuid(id)) return false;
      const consumed = await db
        .update(emailOtpChallenges)
        .set({ consumedAt: now })
        .where(and(eq(emailOtpChallenges.id, id), isNull(emailOtpChallenges.consumedAt), gt(emailOtpChallenges.expiresAt, now)))
        .returning({ id: emailOtpChallenges.id });
      return consumed.length === 1;
    },
  };
}
