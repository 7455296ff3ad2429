/**
 * {@link EmailOtpStore} on PostgreSQL. Codes are stored as SHA-256 hashes by the caller, each with its outbox
 * message in one transaction. A code becomes the sign-in's one working code only when its email is delivered
 * ({@link markOtpDeliveredOn}, run by the outbox's `markSent`); consumption is a conditional UPDATE, so exactly
 * one of any number of concurrent callers consumes a challenge.
 */
import { and, desc, eq, gte, gt, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import type { EmailOtpDelivery, EmailOtpStore } from '../identity/index.js';
import type { Db, Tx } from './database.js';
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

/**
 * On `tx`: records that challenge `id`'s email was delivered and leaves the newest delivered code of its sign-in as
 * the only delivered one that works (older unconsumed codes are consumed; newer undelivered ones stay).
 */
export async function markOtpDeliveredOn(tx: Tx, id: string, now: Date): Promise<void> {
  if (!isUuid(id)) return;
  const [marked] = await tx.update(emailOtpChallenges).set({ deliveredAt: now }).where(eq(emailOtpChallenges.id, id)).returning();
  if (!marked) return;
  const binding = ofBinding(marked.accountId, marked.bindingId);
  const [newest] = await tx
    .select({ id: emailOtpChallenges.id, createdAt: emailOtpChallenges.createdAt })
    .from(emailOtpChallenges)
    .where(and(binding, isNull(emailOtpChallenges.consumedAt), isNotNull(emailOtpChallenges.deliveredAt)))
    .orderBy(desc(emailOtpChallenges.createdAt), desc(emailOtpChallenges.id))
    .limit(1);
  if (!newest) return;
  await tx
    .update(emailOtpChallenges)
    .set({ consumedAt: now })
    .where(and(binding, isNull(emailOtpChallenges.consumedAt), ne(emailOtpChallenges.id, newest.id), sql`(${emailOtpChallenges.createdAt}, ${emailOtpChallenges.id}) < (${newest.createdAt.toISOString()}::timestamptz, ${newest.id}::uuid)`));
}

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
