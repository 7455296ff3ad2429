/**
 * The password step of sign-in, with lockout (design/security.md §2–3).
 *
 * Order matters: the attempt is reserved in PostgreSQL before argon2 runs, so concurrent guesses on any
 * number of instances get at most `maxFailures` wrong-password checks in any sliding window of
 * `windowSeconds`, and at most `maxConsecutiveFailures` in a row whatever their pace (NIST SP 800-63B §5.2.2).
 * A right password gives its reservation back (it was no failure): that can let one more concurrent guess be
 * checked, but only after the right password itself was checked, so the chance of finding it stays at most
 * `maxFailures` in the guesses made, and failures never exceed `maxFailures`. Unknown account, wrong password,
 * suspended, closed and refused attempts all spend one argon2 verification and give the same outcome;
 * only the correct password on a locked account learns that it is locked.
 *
 * A locked account gets no more reservations, in this window or any later one. So that the person who knows
 * the password is told it is locked (and how to get unlocked), it gets one password check per window
 * (`windowSeconds`), reserved atomically: the first right after the lock, then one per window — a burst of
 * guesses against a locked account gets at most one check, and a locked account cannot be worked through
 * at the unlocked rate. Because a burst can spend that check before the holder tries, the holder is also
 * emailed when the account locks (lock-notice.ts), whatever the sign-in pages answer.
 */
import type { Clock } from '../../../lib/index.js';
import { PASSWORD_MAX_LENGTH } from '../../../policies/index.js';
import { verifyAgainstDummy, verifyPassword } from '../../credentials/password.js';
import { passwordLength } from '../../credentials/password-policy.js';
import { stampEvent, type EventBus } from '../../events.js';
import type { Account } from '../../model.js';
import type { EnrolledFactors, PendingRelease } from '../strategy.js';
import type { AccountStore, LockoutPolicy, LockoutStore } from '../../stores.js';
import type { AttemptContext } from '../../authentication/sign-in.js';

/**
 * Result of {@link PasswordSignIn.verifyPassword}. `invalid` never says why (see the audit event for that). `ok`
 * has the account's registered second factors as the statement that found it read them.
 */
export type PasswordOutcome =
  | { outcome: 'ok'; account: Account; enrolled?: EnrolledFactors; release?: PendingRelease }
  | { outcome: 'invalid' }
  | { outcome: 'locked'; account: Account };

export interface PasswordSignInDeps {
  accounts: AccountStore;
  lockouts: LockoutStore;
  events: EventBus;
  clock: Clock;
  lockout: LockoutPolicy;
}

/** The password step. */
export interface PasswordSignIn {
  /**
   * Checks `login` (user ID or email) and `password`.
   * Records `account.sign_in_failed` (with the real reason, for the audit log only) or nothing on success;
   * records `account.locked` when this failure reached either limit of the lockout policy. The right password's
   * reservation is given back before this returns, unless `options.holdRelease`: an `ok` outcome then carries it
   * (`release`) and the caller must give it back (the sign-in flow does, with the second factor's first write).
   */
  verifyPassword(login: string, password: string, context?: AttemptContext, options?: { holdRelease?: boolean }): Promise<PasswordOutcome>;
}

/** Creates the password step. */
export function createPasswordSignIn(deps: PasswordSignInDeps): PasswordSignIn {
  const { accounts, lockouts, events, clock, lockout } = deps;
  /** A locked account gets one password check per this interval (one per window). */
  const lockedCheckIntervalSeconds = lockout.windowSeconds;

  const failedEvent = (reason: string, account: Account, context: AttemptContext) =>
    stampEvent({ type: 'account.sign_in_failed', accountId: account.id, ip: context.ip, data: { reason, factor: 'pwd', clientId: context.clientId ?? null } }, clock.now());

  async function fail(reason: string, account: Account | null, context: AttemptContext): Promise<PasswordOutcome> {
    await events.publish(
      { type: 'account.sign_in_failed', accountId: account?.id ?? null, ip: context.ip, data: { reason, factor: 'pwd', clientId: context.clientId ?? null } },
      clock.now(),
    );
    return { outcome: 'invalid' };
  }

  /** A wrong password: may lock (either limit reached); the failure and the lock are recorded in the statement that locks. */
  async function wrongPassword(account: Account, context: AttemptContext): Promise<PasswordOutcome> {
    const lockedAt = clock.now();
    const failed = failedEvent('wrong_password', account, context);
    // The holder is emailed once, by the subscriber of the lock event (lock-notice.ts), never in this answer.
    const locked = stampEvent({ type: 'account.locked', accountId: account.id, ip: context.ip, data: { factor: 'pwd' } }, lockedAt);
    const lockedNow = await lockouts.lockIfExhausted(account.id, lockout, lockedAt, { failed, locked });
    await events.publishRecorded(failed);
    if (lockedNow) await events.publishRecorded(locked);
    return { outcome: 'invalid' };
  }

  async function lockedOutcome(account: Account, context: AttemptContext): Promise<PasswordOutcome> {
    await events.publish(
      { type: 'account.sign_in_failed', accountId: account.id, ip: context.ip, data: { reason: 'account_locked', factor: 'pwd', clientId: context.clientId ?? null } },
      clock.now(),
    );
    return { outcome: 'locked', account };
  }

  return {
    async verifyPassword(login, password, context = {}, options = {}) {
      const checkable = login.length <= 320 && passwordLength(password) <= PASSWORD_MAX_LENGTH;
      const reservedAt = clock.now();
      // The account and its reservation in one round trip (nothing is reserved for an account without a password).
      const found = checkable ? await lockouts.reserveAttemptByLogin(login.trim(), lockout, reservedAt) : null;
      const account = found ? found.account : login.length <= 320 ? await accounts.findByLogin(login.trim()) : null;
      if (!found || !account || !account.passwordHash) {
        await verifyAgainstDummy(password);
        return fail(!account ? 'unknown_account' : !account.passwordHash ? 'no_password' : 'password_too_long', account, context);
      }
      if (!found.reserved) {
        const lockedCheck = found.locked && (await lockouts.reserveLockedCheck(account.id, lockedCheckIntervalSeconds, clock.now()));
        if (!lockedCheck) {
          await verifyAgainstDummy(password);
          return fail('attempt_budget_exhausted', account, context);
        }
        if (!(await verifyPassword(account.passwordHash, password))) return fail('wrong_password', account, context);
        return lockedOutcome(account, context);
      }
      if (!(await verifyPassword(account.passwordHash, password))) return wrongPassword(account, context);
      // A right password is no failure: give its slot back (wrong guesses stay capped, see releaseAttempt), at
      // once or, when the caller holds it, with the caller's next write.
      const release = { accountId: account.id, reservedAt };
      if (account.status === 'active' && options.holdRelease) return { outcome: 'ok', account, release, ...(found.enrolled ? { enrolled: found.enrolled } : {}) };
      await lockouts.releaseAttempt(account.id, reservedAt);
      if (account.status !== 'active') return fail(`account_${account.status}`, account, context);
      return { outcome: 'ok', account, ...(found.enrolled ? { enrolled: found.enrolled } : {}) };
    },
  };
}
