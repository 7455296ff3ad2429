/**
 * The storage the emailed-code factor needs; storage/email-otp-store.ts implements it on PostgreSQL.
 */
import type { OutboxMail } from '../../mail/stores.js';
import type { AccountView, AuditEvent, EmailOtpChallenge } from '../../model.js';
import type { LockoutPolicy } from '../../stores.js';

/** An emailed code with the state of its email (identity decides what the code page may claim from it). */
export interface EmailOtpDelivery extends EmailOtpChallenge {
  /** When its email was delivered (the outbox marked it sent); null until then. */
  deliveredAt: Date | null;
  /** Its outbox message: `status` (pending, sent, failed), attempts so far and the last failure; null when none exists. */
  mail: { status: 'pending' | 'sent' | 'failed'; attempts: number; lastError: string | null } | null;
}

/** Emailed one-time codes. */
export interface EmailOtpStore {
  /**
   * Stores a new challenge and the outbox message carrying its code, in one transaction. Earlier codes of the
   * binding keep working: only when this one's email is delivered (the outbox's `markSent`) do they stop. With
   * `replaces` (the id of the newest challenge the caller saw), issues only while that challenge is still the
   * newest of the binding, taking its row lock, so of concurrent resends exactly one issues a code. Messages of the
   * binding's earlier codes that were never delivered and that no worker holds are withdrawn (those codes consumed),
   * so at most one undelivered code per sign-in waits in the outbox.
   * @returns false when `replaces` was given and a newer challenge exists (nothing stored); true otherwise.
   */
  issue(challenge: EmailOtpChallenge, replaces: string | undefined, mail: OutboxMail): Promise<boolean>;
  /**
   * The first code of a binding, in one statement: stores the challenge and its outbox message only when the
   * binding has no challenge yet. The message is stored already leased by the caller for `leaseSeconds` (its
   * first attempt counted), so the caller delivers it at once without claiming it; if the caller dies, the lease
   * runs out and any worker delivers it.
   * With `release` (the right password's lockout reservation, `LockoutStore.releaseAttempt`'s arguments), that
   * reservation is given back in the same statement, whether or not a code was stored.
   * @returns false when the binding already had a challenge (nothing stored: use {@link issue}).
   */
  issueFirst(challenge: EmailOtpChallenge, mail: OutboxMail, leaseSeconds: number, release?: { accountId: string; reservedAt: Date }): Promise<boolean>;
  /** The newest challenge of this account and binding, consumed or not, with its delivery; null when none. */
  findLatest(accountId: string, bindingId: string): Promise<EmailOtpDelivery | null>;
  /** The binding's unconsumed challenges (expired ones included), newest first, with their delivery; at most 20. */
  listUnconsumed(accountId: string, bindingId: string): Promise<EmailOtpDelivery[]>;
  /** Atomically marks it consumed (`… WHERE consumed_at IS NULL AND expires_at > now`). True for exactly one caller. */
  consume(id: string, now: Date): Promise<boolean>;
  /**
   * A sign-in's whole code check in one round trip, lockout included (design/security.md §2): reserves the attempt
   * against the lockout as {@link LockoutStore.reserveAttempt} does (granted only while unlocked and under both
   * budgets, on the newest version of the row) and, only when granted, reads the binding's unconsumed codes
   * (newest first, at most 20) and consumes the newest one with `codeHash` when it is unexpired (a conditional
   * UPDATE: of concurrent callers exactly one has it). A granted attempt with the right unexpired code (as the
   * statement sees it) is no failure: the counts are reset as {@link LockoutStore.reset} does, and `signedIn` (a
   * stamped event) is appended to the audit log when this call consumed the code; any other granted attempt stays
   * counted (the caller then records the failure with `lockIfExhausted`).
   * @returns `reserved` (false: nothing checked, nothing consumed; `locked` says whether the account is locked as
   *   the statement saw it), the candidates (for the caller's constant-time comparison), the id of the code this
   *   call consumed (or null), and the account's view as the statement read it (null when the account is gone).
   */
  checkCode(
    accountId: string, bindingId: string, codeHash: string, now: Date, attempt: { policy: LockoutPolicy; signedIn?: AuditEvent },
  ): Promise<{ reserved: boolean; locked: boolean; candidates: { id: string; codeHash: string; expiresAt: Date }[]; consumedId: string | null; view: AccountView | null }>;
}
