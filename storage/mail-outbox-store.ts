/**
 * {@link MailOutboxStore} on PostgreSQL: the `mail_outbox` table. A message is sealed (AES-256-GCM under
 * `ENCRYPTION_KEY`, bound to its row id) because a sign-in code or a password link is in it. Workers lease due
 * rows with one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` that also sets `locked_until` and counts
 * the attempt: concurrent workers on any number of instances never lease one row twice, and a worker that dies
 * mid-attempt only delays its rows until the lease ends. Lease and retry times are the database's clock (`now()`),
 * so instances with skewed clocks agree. Marking a message sent runs, in the same transaction, the step that makes
 * what it carried usable ({@link DeliveredSteps}).
 */
import { and, desc, eq, inArray, isNotNull, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { ClaimedMail, MailOutboxStore, MailPurpose, OutboxMail, UnreadableMail } from '../identity/index.js';
import { openWithAnyKey, seal, type MailMessage, type SealingKeys } from '../lib/index.js';
import { appendAuditEventsOn, auditInsertWhen } from './audit-store.js';
import type { Db, Executor, Tx } from './database.js';
import { mailOutbox } from './schema.js';

/**
 * What a delivered message of a purpose makes true, when it is marked sent (`reference`: its row id): either a step
 * run in the transaction that marks it sent, or the body of a data-modifying CTE run in the very statement that
 * marks it sent (`reference` is then SQL giving the sent row's reference, null when the lease was lost), so the
 * delivery is recorded in one round trip.
 */
export type DeliveredStep = ((tx: Tx, reference: string, now: Date) => Promise<void>) | { inStatement(reference: SQL, now: Date): SQL };
/** The {@link DeliveredStep} of each purpose that has one. */
export type DeliveredSteps = Partial<Record<MailPurpose, DeliveredStep>>;

/** Writes outbox rows in a caller's transaction (the email OTP and reset-link stores). */
export interface OutboxWriter {
  /** Inserts `mail`, due now (the database's clock), on `executor`. */
  enqueueOn(executor: Executor, mail: OutboxMail, now: Date): Promise<void>;
  /** The `message` column of `mail`'s row: its payload sealed under the current key, bound to its id (for stores that insert the row in their own statement). */
  sealedMessage(mail: OutboxMail): string;
}

/** The sealed part of a row. */
interface SealedPayload {
  message: MailMessage;
  discardAfter: string | null;
  deliveredEvent: OutboxMail['deliveredEvent'];
}

const context = (id: string) => `mail_outbox:${id}`;
const leaseEnded = () => or(isNull(mailOutbox.lockedUntil), lte(mailOutbox.lockedUntil, sql`now()`));

/** Creates the writer that {@link createMailOutboxStore} and the stores carrying mail share. */
export function createOutboxWriter(keys: SealingKeys): OutboxWriter {
  const sealedMessage = (mail: OutboxMail) => {
    const payload: SealedPayload = { message: mail.message, discardAfter: mail.discardAfter?.toISOString() ?? null, deliveredEvent: mail.deliveredEvent };
    return seal(JSON.stringify(payload), keys.current, context(mail.id));
  };
  return {
    sealedMessage,
    async enqueueOn(executor, mail, now) {
      await executor.insert(mailOutbox).values({
        id: mail.id,
        purpose: mail.purpose,
        reference: mail.reference,
        accountId: mail.accountId,
        message: sealedMessage(mail),
        status: 'pending',
        attempts: 0,
        createdAt: now,
        nextAttemptAt: sql`now()`,
      });
    },
  };
}

/** Opens a row's payload; null when no configured key opens it. */
function openPayload(keys: SealingKeys, id: string, sealed: string): SealedPayload | null {
  if (!sealed) return null;
  try {
    return JSON.parse(openWithAnyKey(sealed, keys, context(id))) as SealedPayload;
  } catch {
    return null;
  }
}

/** Creates the outbox store over `db`; `delivered` are the steps run when a message is marked sent. */
export function createMailOutboxStore(db: Db, keys: SealingKeys, writer: OutboxWriter, delivered: DeliveredSteps): MailOutboxStore {
  return {
    enqueue: (mail, now) => writer.enqueueOn(db, mail, now),

    async claimDue({ limit, leaseSeconds, ids }) {
      if (ids?.length === 0) return [];
      const due = db
        .select({ id: mailOutbox.id })
        .from(mailOutbox)
        .where(and(eq(mailOutbox.status, 'pending'), lte(mailOutbox.nextAttemptAt, sql`now()`), leaseEnded(), ids ? inArray(mailOutbox.id, ids) : undefined))
        .orderBy(mailOutbox.nextAttemptAt)
        .limit(limit)
        .for('update', { skipLocked: true });
      const rows = await db
        .update(mailOutbox)
        .set({ lockedUntil: sql`now() + make_interval(secs => ${leaseSeconds}::double precision)`, attempts: sql`${mailOutbox.attempts} + 1` })
        .where(inArray(mailOutbox.id, due))
        .returning();
      return rows.map((row): ClaimedMail | UnreadableMail => {
        const base = { id: row.id, purpose: row.purpose as MailPurpose, reference: row.reference, accountId: row.accountId, attempts: row.attempts };
        const payload = openPayload(keys, row.id, row.message);
        if (!payload) return { ...base, unreadable: 'the message cannot be decrypted with ENCRYPTION_KEY or PREVIOUS_ENCRYPTION_KEYS' };
        return { ...base, createdAt: row.createdAt, message: payload.message, discardAfter: payload.discardAfter ? new Date(payload.discardAfter) : null, deliveredEvent: payload.deliveredEvent };
      });
    },

    async markSent(mail, now, recorded) {
      const known = mail.purpose ? delivered[mail.purpose] : undefined;
      // One statement when the purpose is known and its step (if any) is SQL: the sent row, what it delivered, its event.
      if (mail.purpose && typeof known !== 'function') {
        const step = known ? sql`, delivered as (${known.inStatement(sql`(select reference from sent)`, now)})` : sql``;
        const audit = recorded ? sql`, recorded as (${auditInsertWhen(recorded, sql`exists (select 1 from sent)`)})` : sql``;
        const result = await db.execute(sql`
          with sent as (
            update ${mailOutbox} set status = 'sent', sent_at = ${now.toISOString()}::timestamptz, locked_until = null, message = '', last_error = null
            where id = ${mail.id} and purpose = ${mail.purpose} and status = 'pending' and locked_until is not null
            returning reference
          )${step}${audit}
          select count(*)::int as sent from sent`);
        return Number((result as unknown as { rows: { sent: number }[] }).rows[0]?.sent ?? 0) === 1;
      }
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(mailOutbox)
          .set({ status: 'sent', sentAt: now, lockedUntil: null, message: '', lastError: null })
          .where(and(eq(mailOutbox.id, mail.id), eq(mailOutbox.status, 'pending'), isNotNull(mailOutbox.lockedUntil)))
          .returning({ purpose: mailOutbox.purpose, reference: mailOutbox.reference });
        if (!row) return false;
        const step = delivered[row.purpose as MailPurpose];
        if (step && row.reference) {
          if (typeof step === 'function') await step(tx, row.reference, now);
          else await tx.execute(sql`with sent as (select ${row.reference}::text as reference), delivered as (${step.inStatement(sql`(select reference from sent)`, now)}) select 1`);
        }
        if (recorded) await appendAuditEventsOn(tx, [recorded]);
        return true;
      });
    },

    async markRetry(mail, error, retryInSeconds) {
      await db
        .update(mailOutbox)
        .set({ lockedUntil: null, lastError: error, nextAttemptAt: sql`now() + make_interval(secs => ${retryInSeconds}::double precision)` })
        .where(and(eq(mailOutbox.id, mail.id), eq(mailOutbox.status, 'pending')));
    },

    async markFailed(mail, error) {
      // Only who and what stay, for the operator console: the body (a code, a link) is erased.
      const message = 'message' in mail ? (mail as { message: MailMessage }).message : null;
      const kept = message ? seal(JSON.stringify({ message: { to: message.to, subject: message.subject, text: '' }, discardAfter: null, deliveredEvent: null } satisfies SealedPayload), keys.current, context(mail.id)) : '';
      await db.update(mailOutbox).set({ status: 'failed', lockedUntil: null, lastError: error, message: kept }).where(and(eq(mailOutbox.id, mail.id), eq(mailOutbox.status, 'pending')));
    },

    async listUndelivered(limit = 100) {
      const rows = await db
        .select()
        .from(mailOutbox)
        .where(or(eq(mailOutbox.status, 'failed'), and(eq(mailOutbox.status, 'pending'), isNotNull(mailOutbox.lastError))))
        .orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id))
        .limit(Math.min(Math.max(1, limit), 1000));
      return rows.map((row) => {
        const payload = openPayload(keys, row.id, row.message);
        return {
          id: row.id,
          purpose: row.purpose as MailPurpose,
          accountId: row.accountId,
          to: payload?.message.to ?? null,
          subject: payload?.message.subject ?? null,
          status: row.status as 'pending' | 'failed',
          attempts: row.attempts,
          lastError: row.lastError,
          nextAttemptAt: row.nextAttemptAt,
          createdAt: row.createdAt,
        };
      });
    },
  };
}

/**
 * Withdraws, on `tx`, the pending messages of `purpose` for these references that no worker holds (the caller
 * replaces what they carried). @returns the references withdrawn.
 */
export async function withdrawPendingOn(tx: Tx, purpose: MailPurpose, references: string[]): Promise<string[]> {
  if (references.length === 0) return [];
  const withdrawn = await tx
    .delete(mailOutbox)
    .where(and(eq(mailOutbox.purpose, purpose), eq(mailOutbox.status, 'pending'), leaseEnded(), inArray(mailOutbox.reference, references)))
    .returning({ reference: mailOutbox.reference });
  return withdrawn.flatMap((row) => (row.reference ? [row.reference] : []));
}
