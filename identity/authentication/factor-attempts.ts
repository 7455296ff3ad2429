/**
 * Lockout accounting shared by the second factors (emailed code, authenticator app): every attempt is reserved
 * before the code is checked and counts in the same sliding window and consecutive count as wrong passwords,
 * every failure may lock, a success resets both counts (design/security.md §2).
 * Each outcome is recorded as an event with the factor's name and the client: a failure and a lock in the statement
 * that locks, a completed sign-in in the statement that resets the counts (one round trip each).
 */
import type { Clock } from '../../lib/index.js';
import { stampEvent, type EventBus } from '../events.js';
import type { AuditEvent } from '../model.js';
import type { LockoutPolicy, LockoutStore } from '../stores.js';
import type { AttemptContext } from './sign-in.js';

/** The accounting of one factor. */
export interface FactorAttempts {
  /**
   * Reserves one attempt. @returns null when reserved; otherwise records the refusal and returns the outcome to
   * give (`locked` when the account is locked, `invalid` when the budget is spent by attempts still in flight).
   */
  reserve(accountId: string, context: AttemptContext): Promise<{ outcome: 'locked' | 'invalid' } | null>;
  /** Records a failed attempt (`reason` for the audit log only). @returns true when this failure locked the account. */
  fail(accountId: string, reason: string, context: AttemptContext): Promise<boolean>;
  /** Resets the counts (window and consecutive failures) after a correct code; with `amr`, records `account.signed_in` too (data.amr, data.factor). */
  succeed(accountId: string, context: AttemptContext, amr?: string[]): Promise<void>;
  /**
   * For a factor whose store reserves the attempt in the statement that checks it: records the refusal of an
   * attempt the store did not reserve (`locked`: the account is locked) and returns the outcome to give, as
   * {@link reserve} does for its own refusals.
   */
  refuse(accountId: string, locked: boolean, context: AttemptContext): Promise<{ outcome: 'locked' | 'invalid' }>;
  /** The `account.signed_in` event {@link succeed} records with `amr`, stamped `now`, for a store that records it in its own statement. */
  signedInEvent(accountId: string, context: AttemptContext, amr: string[], now: Date): AuditEvent;
}

/**
 * Creates the accounting for `factor` (`otp` for emailed codes, `totp` for the app; the audit log's name).
 */
export function createFactorAttempts(deps: { lockouts: LockoutStore; events: EventBus; clock: Clock; lockout: LockoutPolicy }, factor: string): FactorAttempts {
  const { lockouts, events, clock, lockout } = deps;
  const failedEvent = (accountId: string, reason: string, context: AttemptContext) =>
    stampEvent({ type: 'account.sign_in_failed', accountId, ip: context.ip, data: { reason, factor, clientId: context.clientId ?? null } }, clock.now());
  const failed = (accountId: string, reason: string, context: AttemptContext) =>
    events.publish({ type: 'account.sign_in_failed', accountId, ip: context.ip, data: { reason, factor, clientId: context.clientId ?? null } }, clock.now());

  const signedInEvent = (accountId: string, context: AttemptContext, amr: string[], now: Date) =>
    stampEvent({ type: 'account.signed_in', accountId, ip: context.ip, data: { amr, factor, clientId: context.clientId ?? null } }, now);
  async function refuse(accountId: string, locked: boolean, context: AttemptContext): Promise<{ outcome: 'locked' | 'invalid' }> {
    await failed(accountId, locked ? 'account_locked' : 'attempt_budget_exhausted', context);
    return { outcome: locked ? 'locked' : 'invalid' };
  }

  return {
    async reserve(accountId, context) {
      const reservation = await lockouts.reserveAttempt(accountId, lockout, clock.now());
      if (reservation.reserved) return null;
      return refuse(accountId, reservation.locked, context);
    },
    refuse,
    signedInEvent,
    async fail(accountId, reason, context) {
      const lockedAt = clock.now();
      // The failure, and the lock when this failure locked, are recorded in the statement that locks.
      const failure = failedEvent(accountId, reason, context);
      const locked = stampEvent({ type: 'account.locked', accountId, ip: context.ip, data: { factor } }, lockedAt);
      const lockedNow = await lockouts.lockIfExhausted(accountId, lockout, lockedAt, { failed: failure, locked });
      await events.publishRecorded(failure);
      // The holder is emailed once, by the subscriber of this event (lock-notice.ts), never in this answer.
      if (lockedNow) await events.publishRecorded(locked);
      return lockedNow;
    },
    async succeed(accountId, context, amr) {
      const now = clock.now();
      const signedIn = amr ? signedInEvent(accountId, context, amr, now) : undefined;
      await lockouts.reset(accountId, now, signedIn);
      if (signedIn) await events.publishRecorded(signedIn);
    },
  };
}
