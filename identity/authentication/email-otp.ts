/**
 * The emailed one-time code: 6 digits, valid `ttlSeconds`, single use, bound to one sign-in (the
 * interaction), stored as a SHA-256 hash, resend throttled. Every wrong code counts toward the lockout.
 * A correct code completes the sign-in: the lockout count is reset and `account.signed_in` recorded.
 */
import { addSeconds, DomainError, newId, randomDigits, safeEqual, sha256Hex, type Clock, type Mailer } from '../../lib/index.js';
import { EMAIL_OTP_DIGITS } from '../../policies/index.js';
import type { EventBus } from '../events.js';
import type { Account } from '../model.js';
import type { AccountStore, EmailOtpStore, LockoutPolicy, LockoutStore } from '../stores.js';
import { createFactorAttempts } from './factor-attempts.js';
import type { AttemptContext } from './sign-in.js';

/** Result of {@link EmailOtpFactor.verify}. */
export type OtpOutcome = { outcome: 'ok'; amr: string[] } | { outcome: 'invalid' } | { outcome: 'expired' } | { outcome: 'locked' };

export interface EmailOtpDeps {
  accounts: AccountStore;
  emailOtps: EmailOtpStore;
  lockouts: LockoutStore;
  events: EventBus;
  mailer: Mailer;
  clock: Clock;
  lockout: LockoutPolicy;
  otp: { ttlSeconds: number; resendIntervalSeconds: number };
  displayName: string;
}

/** The email second factor. */
export interface EmailOtpFactor {
  /**
   * Emails a new code for this sign-in; earlier codes of the same sign-in stop working.
   * @returns the masked address it went to, e.g. `j***@example.com`.
   * @throws DomainError `rate_limited` when the previous code for this sign-in is younger than the resend interval
   *   (`retryAfterSeconds` in the message); the mailer's error when delivery fails.
   */
  send(account: Account, bindingId: string, context?: AttemptContext): Promise<{ sentTo: string }>;
  /** Checks a code for this sign-in (RFC 8176 `amr`: `pwd`, `otp`, `mfa` on success). */
  verify(accountId: string, bindingId: string, code: string, context?: AttemptContext): Promise<OtpOutcome>;
}

/** `jchan@example.com` → `j***@example.com`. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

/** Creates the email second factor. */
export function createEmailOtpFactor(deps: EmailOtpDeps): EmailOtpFactor {
  const { emailOtps, events, mailer, clock, otp } = deps;
  const attempts = createFactorAttempts(deps, 'otp');

  async function failure(accountId: string, reason: string, context: AttemptContext): Promise<OtpOutcome> {
    if (await attempts.fail(accountId, reason, context)) return { outcome: 'locked' };
    return { outcome: reason === 'expired_otp' ? 'expired' : 'invalid' };
  }

  return {
    async send(account, bindingId, context = {}) {
      const now = clock.now();
      const previous = await emailOtps.findLatest(account.id, bindingId);
      if (previous) {
        const waitSeconds = Math.ceil((previous.createdAt.getTime() + otp.resendIntervalSeconds * 1000 - now.getTime()) / 1000);
        if (waitSeconds > 0) throw new DomainError('rate_limited', `A code was sent moments ago. You can ask for another in ${waitSeconds} seconds.`);
      }
      const code = randomDigits(EMAIL_OTP_DIGITS);
      const challenge = { id: newId(), accountId: account.id, bindingId, codeHash: sha256Hex(code), createdAt: now, expiresAt: addSeconds(now, otp.ttlSeconds), consumedAt: null };
      if (!(await emailOtps.issue(challenge, previous?.id))) {
        throw new DomainError('rate_limited', `A code was sent moments ago. You can ask for another in ${otp.resendIntervalSeconds} seconds.`);
      }
      const minutes = Math.round(otp.ttlSeconds / 60);
      await mailer.send({
        to: account.email,
        subject: `${deps.displayName}: your sign-in code`,
        text: `Your ${deps.displayName} sign-in code is ${code}\n\nIt is valid for ${minutes} minutes and works once, for the sign-in you just started.\nIf you did not try to sign in, change your password and tell your delegated administrator.\n`,
      });
      await events.publish({ type: 'email_otp.sent', accountId: account.id, ip: context.ip ?? null }, now);
      return { sentTo: maskEmail(account.email) };
    },

    async verify(accountId, bindingId, code, context = {}) {
      const refused = await attempts.reserve(accountId, context);
      if (refused) return refused;
      const challenge = await emailOtps.findLatest(accountId, bindingId);
      const normalized = code.replace(/\s+/g, '');
      if (!challenge || challenge.consumedAt || !/^\d+$/.test(normalized) || !safeEqual(sha256Hex(normalized), challenge.codeHash)) {
        return failure(accountId, 'wrong_otp', context);
      }
      if (challenge.expiresAt <= clock.now()) return failure(accountId, 'expired_otp', context);
      if (!(await emailOtps.consume(challenge.id, clock.now()))) return failure(accountId, 'wrong_otp', context);
      const amr = ['pwd', 'otp', 'mfa'];
      await attempts.succeed(accountId, context, amr);
      return { outcome: 'ok', amr };
    },
  };
}
