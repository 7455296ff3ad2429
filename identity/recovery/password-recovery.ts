/**
 * Password recovery ("Forgot password?"): the person gives their user ID or email and their registered mobile
 * phone; when both match an active account, a single-use link valid `ttlSeconds` is emailed. Setting a new
 * password through the link clears the lockout, ends every session, grant and refresh token of the account,
 * and sends a "your password was changed" email. The next sign-in still needs the second factor.
 * A new account's set-password link (set-password-link.ts, purpose `set_password`) is completed the same way,
 * through the same page, without the "changed" email; it works only while the account has no password.
 *
 * No enumeration (design/security.md §3, ASVS V6.4): every request does the same work in the request
 * (account lookup, constant-time phone comparison, two rate-limit counters, one audit event) and answers
 * the same; issuing the link and sending the email happen in the background, only for a match.
 */
import { addSeconds, newId, randomToken, sha256Hex, type Clock, type Logger, type Mailer } from '../../lib/index.js';
import { checkNewPassword } from '../credentials/password-policy.js';
import { hashPassword } from '../credentials/password.js';
import type { EventBus } from '../events.js';
import type { Account } from '../model.js';
import type { AccountStore } from '../stores.js';
import { createBackgroundTasks } from './background.js';
import { deliverLink } from './deliver-link.js';
import type { MailDelivery } from '../mail/delivery.js';
import { passwordChangedEmail, resetEmail } from './emails.js';
import { phonesMatch } from './phone.js';
import { sendSetPasswordLink, type SetPasswordLinkContext } from './set-password-link.js';
import type { PasswordResetStore, PasswordResetToken, RateLimit, RateLimitStore } from './stores.js';

/** Deployment settings of recovery (lib/config.ts: PASSWORD_RESET_*, SET_PASSWORD_TTL_SECONDS). Durations in seconds. */
export interface RecoverySettings {
  /** Validity of a reset link (default 7200: 2 hours). */
  ttlSeconds: number;
  /** Reset emails per account (requests whose details matched). */
  perAccount: RateLimit;
  /** Requests per client IP address, whatever their outcome. */
  perIp: RateLimit;
  /** Validity of a new account's set-password link (default 259200: 72 hours; `SET_PASSWORD_TTL_SECONDS`). */
  setPasswordTtlSeconds: number;
}

/** The defaults of {@link RecoverySettings}, equal to lib/config.ts's. */
export const DEFAULT_RECOVERY_SETTINGS: RecoverySettings = { ttlSeconds: 7200, perAccount: { max: 5, windowSeconds: 3600 }, perIp: { max: 30, windowSeconds: 3600 }, setPasswordTtlSeconds: 259200 };

/** Who asks, for the audit log. */
export interface RecoveryContext {
  ip?: string | null;
}

/** What a link is for: `reset` ("Forgot password?") or `set_password` (a new account's first password). */
export type LinkPurpose = PasswordResetToken['purpose'];

/** Result of {@link PasswordRecovery.completeReset}. */
export type ResetOutcome = { outcome: 'changed'; userId: string; purpose: LinkPurpose } | { outcome: 'invalid_link' } | { outcome: 'rejected'; fieldErrors: Record<string, string[]> };

/** The recovery use cases. */
export interface PasswordRecovery {
  /**
   * Handles a "Forgot password?" request. Resolves the same way (after the same work) whether or not the
   * account exists, the phone matches, the account is active or a rate limit was reached. Records
   * `password_reset.requested` with the real outcome (audit only). When accepted, a new link and its email are put
   * in the outbox after the answer; once it is delivered (`password_reset.email_sent`), the account's older reset
   * links stop working. Until then, and for good if delivery is given up, the older ones keep working; a link whose
   * email was given up gives back its slot of the per-account limit (`perAccount`).
   * @param resetUrl - builds the link from a token, from the configured public URL (never the Host header).
   */
  requestReset(request: { login: string; phone: string }, resetUrl: (token: string) => string, context?: RecoveryContext): Promise<void>;
  /**
   * For showing the form: the user ID and the link's purpose when `token` is a usable link (unused, newest,
   * unexpired; a `set_password` link only while the account has no password), else null. Never consumes it.
   */
  findResetLink(token: string): Promise<{ userId: string; purpose: LinkPurpose } | null>;
  /** Sets a new password through a reset or set-password link: policy first, then one atomic consumption of the token. */
  completeReset(token: string, newPassword: string, context?: RecoveryContext): Promise<ResetOutcome>;
  /**
   * Puts a newly created account's single-use set-password link (valid `settings.setPasswordTtlSeconds`), built
   * from the configured public URL, in the outbox with its email. Never rejects: a failure to store it is logged
   * with an error id and recorded as `password_reset.email_failed`. @returns null when queued, otherwise that error id.
   */
  sendSetPasswordLink(accountId: string, context?: SetPasswordLinkContext): Promise<string | null>;
  /**
   * Resolves when the emails started so far were put in the outbox (or failed to be, and that was recorded), and
   * this process's delivery attempts under way have finished (delivered, or scheduled for a retry).
   */
  idle(): Promise<void>;
}

/** What {@link createPasswordRecovery} needs. */
export interface PasswordRecoveryDeps {
  accounts: AccountStore;
  passwordResets: PasswordResetStore;
  rateLimits: RateLimitStore;
  events: EventBus;
  /** Puts the password-changed notice in the outbox (identity/mail/outbox-mailer.ts). */
  mailer: Mailer;
  /** Delivers the outbox messages of reset and set-password links. */
  delivery: MailDelivery;
  clock: Clock;
  displayName: string;
  settings: RecoverySettings;
  /** Builds a set-password link from its token, from the configured public URL (never a Host header). */
  setPasswordUrl: (token: string) => string;
  logger?: Logger;
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,100}$/;
/** Compared against when the account is unknown, so that case costs the same. */
const NO_PHONE = '0000000000';

/** Creates the recovery service. */
export function createPasswordRecovery(deps: PasswordRecoveryDeps): PasswordRecovery {
  const { accounts, passwordResets, rateLimits, events, clock, settings } = deps;
  const background = createBackgroundTasks(deps.logger);
  // A reset email that could never be delivered gives its account back the slot it took of PASSWORD_RESET_PER_ACCOUNT_MAX:
  // nothing reached the person, so an outage must not use up their resets.
  deps.delivery.onGivenUp('reset_link', async ({ accountId }) => {
    if (accountId) await rateLimits.giveBack(`password_reset:account:${accountId}`);
  });

  function sendInBackground(name: string, account: Account, send: () => Promise<void>): void {
    background.run(name, send, (errorId, error) =>
      events.publish({ type: 'password_reset.email_failed', accountId: account.id, data: { email: name, errorId, error: error instanceof Error ? error.message : String(error) } }, clock.now()),
    );
  }

  /** The unused, unexpired link of `token` and its active account; a set-password link only while the account has no password. */
  async function usableLink(token: string) {
    const found = TOKEN_SHAPE.test(token) ? await passwordResets.findByHash(sha256Hex(token)) : null;
    if (!found || found.consumedAt || found.expiresAt <= clock.now()) return null;
    const account = await accounts.findById(found.accountId);
    if (!account || account.status !== 'active' || (found.purpose === 'set_password' && account.passwordHash !== null)) return null;
    return { found, account };
  }

  return {
    async requestReset(request, resetUrl, context = {}) {
      const now = clock.now();
      const login = request.login.trim();
      const account = login.length > 0 && login.length <= 320 ? await accounts.findByLogin(login) : null;
      const matched = phonesMatch(account?.phone ?? NO_PHONE, request.phone) && account !== null;
      const subjectKey = matched ? `password_reset:account:${account.id}` : `password_reset:login:${sha256Hex(login.toLowerCase())}`;
      const [ipAllowed, subjectAllowed] = await Promise.all([
        rateLimits.hit(`password_reset:ip:${context.ip ?? 'unknown'}`, settings.perIp, now),
        rateLimits.hit(subjectKey, settings.perAccount, now),
      ]);
      const outcome = !account ? 'unknown_account' : !matched ? 'phone_mismatch' : account.status !== 'active' ? `account_${account.status}` : !(ipAllowed && subjectAllowed) ? 'rate_limited' : 'accepted';
      await events.publish({ type: 'password_reset.requested', accountId: account?.id ?? null, ip: context.ip ?? null, data: { outcome } }, now);
      if (outcome !== 'accepted' || !account) return;
      sendInBackground('reset_link', account, async () => {
        const token = randomToken(32);
        const expiresAt = addSeconds(now, settings.ttlSeconds);
        const issued = { id: newId(), accountId: account.id, purpose: 'reset' as const, tokenHash: sha256Hex(token), createdAt: now, expiresAt, consumedAt: null };
        const message = resetEmail({ displayName: deps.displayName, account, link: resetUrl(token), ttlSeconds: settings.ttlSeconds });
        await deliverLink(passwordResets, deps.delivery, issued, message, { type: 'password_reset.email_sent', accountId: account.id, data: { purpose: 'reset', expiresAt: expiresAt.toISOString() } });
      });
    },

    async findResetLink(token) {
      const link = await usableLink(token);
      return link ? { userId: link.account.userId, purpose: link.found.purpose } : null;
    },

    async completeReset(token, newPassword, context = {}) {
      const link = await usableLink(token);
      if (!link) return { outcome: 'invalid_link' };
      const { found, account } = link;
      const organizationNames = (await accounts.listMemberships(account.id)).map((m) => m.organization.name);
      const fieldErrors = checkNewPassword(newPassword, { userId: account.userId, email: account.email, organizationNames });
      if (fieldErrors) return { outcome: 'rejected', fieldErrors };
      const passwordHash = await hashPassword(newPassword);
      const now = clock.now();
      const completed = await passwordResets.consumeAndSetPassword(found.tokenHash, passwordHash, now);
      if (completed?.accountId !== account.id) {
        await events.publish({ type: 'password_reset.link_rejected', accountId: account.id, ip: context.ip ?? null, data: { reason: 'consumed_concurrently' } }, clock.now());
        return { outcome: 'invalid_link' };
      }
      const { wasLocked, grants, sessions, clients } = completed;
      if (wasLocked) await events.publish({ type: 'account.unlocked', accountId: account.id, actor: 'password_reset', ip: context.ip ?? null }, now);
      await events.publish({ type: 'password_reset.completed', accountId: account.id, ip: context.ip ?? null, data: { grants, sessions, clients, wasLocked, purpose: found.purpose } }, now);
      if (found.purpose === 'reset') sendInBackground('password_changed', account, () => deps.mailer.send(passwordChangedEmail({ displayName: deps.displayName, account, changedAt: now })));
      return { outcome: 'changed', userId: account.userId, purpose: found.purpose };
    },

    sendSetPasswordLink: (accountId, context) =>
      sendSetPasswordLink({ ...deps, background, ttlSeconds: settings.setPasswordTtlSeconds }, accountId, context),

    async idle() {
      await background.idle();
      await deps.delivery.idle();
    },
  };
}
