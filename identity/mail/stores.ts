/**
 * What mail delivery needs from storage: the durable outbox (design/architecture.md "durable mail outbox"). A
 * message is a row written in the transaction of what it carries (a code, a link, a change), and delivered by
 * {@link MailDelivery} workers on any instance, each row once (`FOR UPDATE SKIP LOCKED` and a lease).
 */
import type { MailMessage } from '../../lib/index.js';
import type { EventInput } from '../events.js';
import type { AuditEvent } from '../model.js';

/**
 * What a message delivers. `email_otp`: a sign-in code (reference: the challenge id); `reset_link` and
 * `set_password_link`: a password link (reference: the token id); `notification`: anything else (change
 * requests, authenticator and password notices, lock notices).
 */
export type MailPurpose = 'email_otp' | 'reset_link' | 'set_password_link' | 'notification';

/** A message to put in the outbox. */
export interface OutboxMail {
  /** Chosen by the caller (a UUID), so it can ask for this message's delivery right after its transaction commits. */
  id: string;
  purpose: MailPurpose;
  /** The id of the challenge or link it delivers; null for notifications. */
  reference: string | null;
  accountId: string | null;
  message: MailMessage;
  /** Not worth delivering after this instant (the code or link has expired): then it fails instead. Null: always. */
  discardAfter: Date | null;
  /** Published when the message is delivered (e.g. `email_otp.sent`); null: none. */
  deliveredEvent: EventInput | null;
}

/** A message a worker has leased for one delivery attempt. */
export interface ClaimedMail extends OutboxMail {
  /** Attempts so far, this one included (1 on the first). */
  attempts: number;
  createdAt: Date;
}

/** A message the worker could lease but not open (its key is gone): it fails without being sent. */
export interface UnreadableMail {
  id: string;
  purpose: MailPurpose;
  reference: string | null;
  accountId: string | null;
  attempts: number;
  unreadable: string;
}

/** A message that was not delivered yet after a failed attempt, or never will be: what the operator console lists. */
export interface UndeliveredMail {
  id: string;
  purpose: MailPurpose;
  accountId: string | null;
  /** The recipient address (the console masks it); null when the message can no longer be opened. */
  to: string | null;
  subject: string | null;
  /** `pending`: retried at `nextAttemptAt`; `failed`: given up. */
  status: 'pending' | 'failed';
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  createdAt: Date;
}

/** The outbox table. Every state change is one conditional statement or one transaction. */
export interface MailOutboxStore {
  /** Stores a message due now. Callers whose message belongs to a change use their store's transactional variant instead. */
  enqueue(mail: OutboxMail, now: Date): Promise<void>;
  /**
   * Leases up to `limit` due messages (pending, `next_attempt_at` reached, no live lease) for `leaseSeconds` and
   * counts an attempt on each, in one statement over `SELECT … FOR UPDATE SKIP LOCKED`: concurrent workers on any
   * instance never lease the same row. `ids` restricts it to those messages (a kick right after enqueuing).
   * Times are the database's clock.
   */
  claimDue(options: { limit: number; leaseSeconds: number; ids?: string[] }): Promise<Array<ClaimedMail | UnreadableMail>>;
  /**
   * Marks the leased message sent and, in the same transaction, what it delivered: an email OTP challenge or a
   * password link becomes delivered, and the sign-in's or account's older ones stop working (only the newest
   * delivered one stays usable). The message body is erased. `recorded` (the message's delivered event, stamped) is
   * appended to the audit log in the same statement or transaction; publish it with `publishRecorded` after a true.
   * With `purpose` given, a purpose whose step is a single statement is marked in one round trip.
   * False when the lease was lost (nothing changed, nothing recorded).
   */
  markSent(mail: { id: string; purpose?: MailPurpose }, now: Date, recorded?: AuditEvent): Promise<boolean>;
  /** After a failed attempt: releases the lease, keeps it pending, due again in `retryInSeconds`; records `error`. */
  markRetry(mail: { id: string }, error: string, retryInSeconds: number): Promise<void>;
  /** Gives up: status `failed`, lease released, `error` recorded, body erased. */
  markFailed(mail: { id: string }, error: string, now: Date): Promise<void>;
  /** Messages pending after a failed attempt, or failed, newest first (at most `limit`, default 100). */
  listUndelivered(limit?: number): Promise<UndeliveredMail[]>;
}
