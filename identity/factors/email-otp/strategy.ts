/**
 * The emailed one-time code as a factor strategy: a second step (`otp`), always enrolled (every account has an
 * email address), the fallback the flow asks when the account has nothing else or chooses it. `begin` emails a
 * code bound to the interaction and remembers the masked address (`{ sentTo }`); `describe` is what the code page
 * may truthfully say about its delivery; `verify` checks a code (./email-otp.ts). No registration or removal: the
 * address is the account's.
 */
import { DomainError } from '../../../lib/index.js';
import { defineFactor, type FactorDeps } from '../registry.js';
import type { FactorStrategy } from '../strategy.js';
import { createEmailOtpFactor, EMAIL_OTP_AMR, maskEmail, type EmailOtpFactor } from './email-otp.js';

/** What the code page forwards: the code as typed (digits, spaces removed by the page). */
export interface EmailOtpSubmission {
  code: string;
}

/** The emailed-code strategy, with its codes (send, delivery, verify). */
export interface EmailOtpStrategy extends FactorStrategy<EmailOtpSubmission, never, never, never> {
  readonly codes: EmailOtpFactor;
}

/** Builds the emailed-code strategy. */
export function createEmailOtpStrategy(deps: FactorDeps): EmailOtpStrategy {
  const codes = createEmailOtpFactor({ ...deps.stores, events: deps.events, delivery: deps.delivery, clock: deps.clock, lockout: deps.lockout, otp: deps.otp, displayName: deps.displayName });
  return {
    id: 'otp',
    amr: EMAIL_OTP_AMR,
    steps: { second: true },
    events: ['email_otp.sent', 'account.signed_in', 'account.sign_in_failed', 'account.locked'],
    codes,
    isEnrolled: async () => true,
    releasesInBegin: true,
    /**
     * Puts a code for this interaction in the mail outbox (sent in the background, so a slow mail server never
     * holds up the step). On a first begin a code sent moments ago (`rate_limited`) still works, so the step goes on.
     * @throws DomainError `rate_limited` when `repeat` and a code was delivered less than the resend interval ago;
     *   `unavailable` (503) when the code cannot be stored on a first begin.
     */
    async begin({ account, bindingId, context, repeat, release }) {
      if (!account) throw new DomainError('internal', 'An emailed code needs the account a first step identified.');
      if (repeat) return { sentTo: (await codes.send(account, bindingId, context)).sentTo };
      try {
        return { sentTo: (await codes.send(account, bindingId, context, release)).sentTo };
      } catch (error) {
        if (error instanceof DomainError && error.code === 'rate_limited') return { sentTo: maskEmail(account.email) };
        throw new DomainError('unavailable', 'We could not email your one-time code just now. Please try again in a few minutes.', { expose: true, cause: error });
      }
    },
    async describe(accountId, binding, challenge) {
      const sentTo = typeof challenge.sentTo === 'string' && challenge.sentTo ? challenge.sentTo : undefined;
      return accountId ? codes.delivery(accountId, binding.bindingId, sentTo) : null;
    },
    async verify(attempt, submission) {
      if (!attempt.accountId) return { outcome: 'invalid' };
      const result = await codes.verify(attempt.accountId, attempt.bindingId, submission.code, attempt.context, attempt.completes);
      if (result.outcome !== 'ok') return result;
      return { outcome: 'ok', accountId: attempt.accountId, amr: result.amr, ...(result.view !== undefined ? { view: result.view } : {}) };
    },
    enroll: null,
    remove: null,
  };
}

/** The emailed code's registration entry (../index.ts). */
export const emailOtpFactor = defineFactor({ id: 'otp', create: createEmailOtpStrategy });
