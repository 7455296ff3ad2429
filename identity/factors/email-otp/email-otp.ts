/**
 * The emailed one-time code: 6 digits, valid `ttlSeconds`, single use, bound to one sign-in (the
 * interaction), stored as a SHA-256 hash. Every wrong code counts toward the lockout; a correct code completes
 * the sign-in: the lockout count is reset and `account.signed_in` recorded.
 *
 * The code travels through the durable mail outbox (identity/mail): it is stored with its email in one
 * transaction and counts as sent (`email_otp.sent`) only once the worker delivered it. A new code does not end
 * the earlier one until it is itself delivered, so a resend during a mail outage never takes away a code the
 * person already has; a code's email that is still on its way, or failing, is never claimed to have been sent
 * ({@link CodeDelivery}).
 */
import { addSeconds, DomainError, newId, randomDigits, safeEqual, sha256Hex, type Clock } from '../../../lib/index.js';
import { EMAIL_OTP_DIGITS } from '../../../policies/index.js';
import type { EventBus } from '../../events.js';
import type { MailDelivery } from '../../mail/delivery.js';
import type { Account } from '../../model.js';
import type { AccountStore, LockoutPolicy, LockoutStore } from '../../stores.js';
import type { EmailOtpDelivery, EmailOtpStore } from './stores.js';
import { createFactorAttempts } from '../../authentication/factor-attempts.js';
import type { AttemptContext } from '../../authentication/sign-in.js';
import { composeAmr, type OtpOutcome, type PendingRelease } from '../strategy.js';


/** RFC 8176 `amr` of an emailed code: `otp` (after the password the sign-in's is `pwd`, `otp`, `mfa`). */
export const EMAIL_OTP_AMR: readonly string[] = ['otp'];

/**
 * What the code page may truthfully say about the sign-in's code. `delivered`: its newest code was emailed;
 * `sending`: the email is on its way (no attempt has failed yet); `trouble`: an attempt failed (it is retried) or
 * it was given up; `none`: no code was asked for. `earlierCodeWorks`: while the newest is not delivered, an
 * earlier delivered code of this sign-in still works. `sentTo` is the masked address, e.g. `j***@example.com`.
 */
export interface CodeDelivery {
  state: 'delivered' | 'sending' | 'trouble' | 'none';
  sentTo: string;
  earlierCodeWorks: boolean;
}

export interface EmailOtpDeps {
  accounts: AccountStore;
  emailOtps: EmailOtpStore;
  lockouts: LockoutStore;
  events: EventBus;
  delivery: MailDelivery;
  clock: Clock;
  lockout: LockoutPolicy;
  otp: { ttlSeconds: number; resendIntervalSeconds: number };
  displayName: string;
}

/** The email second factor. */
export interface EmailOtpFactor {
  /**
   * Puts a new code for this sign-in in the outbox and asks for its delivery; the sign-in's earlier codes keep
   * working until it is delivered. Allowed at once when the newest code was not delivered (a mail outage never
   * blocks a resend); otherwise `resendIntervalSeconds` after it.
   * `release`: a first step's lockout reservation, given back in the statement that stores the sign-in's first code.
   * @returns what the code page may say now (normally `sending`).
   * @throws DomainError `rate_limited` when the newest code was delivered less than the resend interval ago
   *   (the wait is in the message); the store's error when the database fails.
   */
  send(account: Account, bindingId: string, context?: AttemptContext, release?: PendingRelease): Promise<CodeDelivery>;
  /**
   * The state of this sign-in's code, for the code page (`none` when the account is unknown). `sentTo`: the masked
   * address the sign-in already holds (from {@link send}); the account is then not read.
   */
  delivery(accountId: string, bindingId: string, sentTo?: string): Promise<CodeDelivery>;
  /**
   * Checks a code for this sign-in against its unconsumed codes (RFC 8176 `amr`: `pwd`, `otp`, `mfa` on success).
   * A delivered earlier code still works while a newer one waits for delivery; a code whose email was delivered
   * but not yet recorded as such works too (knowing it proves receipt).
   * @param completes - the sign-in's `amr` before this step (default `['pwd']`): a success records `account.signed_in`
   *   with {@link composeAmr} of it and `otp` and returns that `amr`; null records no sign-in (the `amr` is then `['otp']`).
   */
  verify(accountId: string, bindingId: string, code: string, context?: AttemptContext, completes?: { amr: readonly string[] } | null): Promise<OtpOutcome>;
}

/** `jchan@example.com` → `j***@example.com`. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

/** {@link CodeDelivery} of a sign-in from its unconsumed codes (newest first). */
export function codeDeliveryOf(unconsumed: EmailOtpDelivery[], email: string, now: Date): CodeDelivery {
  const sentTo = maskEmail(email);
  const [newest] = unconsumed;
  if (!newest) return { state: 'none', sentTo, earlierCodeWorks: false };
  if (newest.deliveredAt) return { state: 'delivered', sentTo, earlierCodeWorks: false };
  const earlierCodeWorks = unconsumed.some((c) => c.deliveredAt !== null && c.expiresAt > now);
  const failing = !newest.mail || newest.mail.status === 'failed' || newest.mail.lastError !== null;
  return { state: failing ? 'trouble' : 'sending', sentTo, earlierCodeWorks };
}

/** Creates the email second factor. */
export function createEmailOtpFactor(deps: EmailOtpDeps): EmailOtpFactor {
  const { emailOtps, clock, otp } = deps;
  const attempts = createFactorAttempts(deps, 'otp');

  async function failure(accountId: string, reason: string, context: AttemptContext): Promise<OtpOutcome> {
    if (await attempts.fail(accountId, reason, context)) return { outcome: 'locked' };
    return { outcome: reason === 'expired_otp' ? 'expired' : 'invalid' };
  }

  const deliveryTo = async (account: Account, bindingId: string) => codeDeliveryOf(await emailOtps.listUnconsumed(account.id, bindingId), account.email, clock.now());

  return {
    async send(account, bindingId, context = {}, release) {
      const now = clock.now();
      const code = randomDigits(EMAIL_OTP_DIGITS);
      const expiresAt = addSeconds(now, otp.ttlSeconds);
      const challenge = { id: newId(), accountId: account.id, bindingId, codeHash: sha256Hex(code), createdAt: now, expiresAt, consumedAt: null };
      const minutes = Math.round(otp.ttlSeconds / 60);
      const message = {
        to: account.email,
        subject: `${deps.displayName}: your sign-in code`,
        text: `Your ${deps.displayName} sign-in code is ${code}\n\nIt is valid for ${minutes} minutes and works once, for the sign-in you just started.\nIf you did not try to sign in, change your password and tell your delegated administrator.\n`,
      };
      const mail = { id: newId(), purpose: 'email_otp' as const, reference: challenge.id, accountId: account.id, message, discardAfter: expiresAt, deliveredEvent: { type: 'email_otp.sent' as const, accountId: account.id, ip: context.ip ?? null } };
      // The sign-in's first code (the usual case): one statement, stored leased to this process, which sends it now.
      // Nothing earlier exists to wait for or to replace, so its email is simply on its way.
      const first = await emailOtps.issueFirst(challenge, mail, deps.delivery.leaseSeconds, release);
      if (first) {
        deps.delivery.deliverLeased([{ ...mail, attempts: 1, createdAt: now }]);
        return { state: 'sending', sentTo: maskEmail(account.email), earlierCodeWorks: false };
      }
      const previous = await emailOtps.findLatest(account.id, bindingId);
      if (previous?.deliveredAt) {
        const waitSeconds = Math.ceil((previous.createdAt.getTime() + otp.resendIntervalSeconds * 1000 - now.getTime()) / 1000);
        if (waitSeconds > 0) throw new DomainError('rate_limited', `A code was sent moments ago. You can ask for another in ${waitSeconds} seconds.`);
      }
      // A concurrent resend issued first: its code is the one on its way.
      if (await emailOtps.issue(challenge, previous?.id, mail)) deps.delivery.deliverSoon([mail.id]);
      return deliveryTo(account, bindingId);
    },

    async delivery(accountId, bindingId, sentTo) {
      if (sentTo) return { ...codeDeliveryOf(await emailOtps.listUnconsumed(accountId, bindingId), '', clock.now()), sentTo };
      const account = await deps.accounts.findById(accountId);
      return account ? deliveryTo(account, bindingId) : { state: 'none', sentTo: '', earlierCodeWorks: false };
    },

    async verify(accountId, bindingId, code, context = {}, completes = { amr: ['pwd'] }) {
      const normalized = code.replace(/\s+/g, '');
      const hash = /^\d+$/.test(normalized) ? sha256Hex(normalized) : null;
      if (hash === null) {
        // Not a code at all: still an attempt, reserved and counted as a wrong code.
        const refused = await attempts.reserve(accountId, context);
        return refused ?? failure(accountId, 'wrong_otp', context);
      }
      const now = clock.now();
      const amr = completes ? composeAmr(completes.amr, EMAIL_OTP_AMR) : [...EMAIL_OTP_AMR];
      const signedIn = completes ? attempts.signedInEvent(accountId, context, amr, now) : undefined;
      // One statement: the attempt reserved against the lockout, then (only when granted) the candidates read and the
      // matching unexpired one consumed, the counts reset and the sign-in recorded for the right code, the account read.
      const checked = await emailOtps.checkCode(accountId, bindingId, hash, now, { policy: deps.lockout, signedIn });
      if (!checked.reserved) return attempts.refuse(accountId, checked.locked, context);
      // Every candidate is compared, in constant time each, so the time taken does not depend on which matched.
      const matches = checked.candidates.filter((c) => safeEqual(hash, c.codeHash));
      const challenge = matches[0];
      if (!challenge) return failure(accountId, 'wrong_otp', context);
      if (challenge.expiresAt <= now) return failure(accountId, 'expired_otp', context);
      // Another request consumed it first.
      if (checked.consumedId !== challenge.id) return failure(accountId, 'wrong_otp', context);
      if (signedIn) await deps.events.publishRecorded(signedIn);
      return { outcome: 'ok', amr, view: checked.view };
    },
  };
}
