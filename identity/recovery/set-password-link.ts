/**
 * The set-password link of a new account (issue 5: "the new user receives an email to set their password, a
 * single-use link, like a reset"). The same machinery as a reset link — a random token stored only as its
 * SHA-256 hash in the reset-token store, single use, only the newest link of the account works — with purpose
 * `set_password`, the same delivery ({@link deliverLink}), its own validity (`SET_PASSWORD_TTL_SECONDS`, default 72 hours) and its own email.
 * The link opens the reset page titled "Set your password"; the password policy applies as for a reset.
 */
import { addSeconds, newId, randomToken, sha256Hex, type Clock } from '../../lib/index.js';
import type { MailDelivery } from '../mail/delivery.js';
import type { EventBus } from '../events.js';
import type { AccountStore } from '../stores.js';
import type { BackgroundTasks } from './background.js';
import { deliverLink } from './deliver-link.js';
import { setPasswordEmail } from './emails.js';
import type { PasswordResetStore } from './stores.js';

/** What {@link sendSetPasswordLink} needs. */
export interface SetPasswordLinkDeps {
  accounts: AccountStore;
  passwordResets: PasswordResetStore;
  events: EventBus;
  delivery: MailDelivery;
  clock: Clock;
  displayName: string;
  /** Builds the link from a token, from the configured public URL (e.g. `https://iam.example/password/set/<token>`). */
  setPasswordUrl: (token: string) => string;
  /** Validity of the link, in seconds. */
  ttlSeconds: number;
  background: BackgroundTasks;
}

/** Why a link is sent, for the audit log: e.g. the reference of the change request that created the account. */
export interface SetPasswordLinkContext {
  reference?: string | null;
  /** Who caused it (the checker's account id or the operator's actor string). */
  actor?: string | null;
  /** The organization whose audit log shows the event. */
  organizationId?: string | null;
}

/**
 * Issues a set-password link for the account and puts its email to the account's address in the outbox; once
 * delivered it supersedes the account's earlier unused ones ({@link deliverLink}) and `password_reset.email_sent`
 * is recorded (data.purpose `set_password`, data.expiresAt). An SMTP outage only delays it (the outbox retries).
 * Never rejects: a failure to store it (unknown account, database) is logged with an error id and recorded as
 * `password_reset.email_failed` (data.email `set_password_link`, data.errorId); the person can still use
 * "Forgot password?".
 * @returns null when the link and its email were stored, otherwise the error id.
 */
export function sendSetPasswordLink(deps: SetPasswordLinkDeps, accountId: string, context: SetPasswordLinkContext = {}): Promise<string | null> {
  const { events, clock } = deps;
  const who = { accountId, organizationId: context.organizationId ?? null, actor: context.actor ?? null };
  const reference = context.reference ?? null;
  return deps.background.runNow(
    'set_password_link',
    async () => {
      const account = await deps.accounts.findById(accountId);
      if (!account) throw new Error(`no account ${accountId}`);
      const now = clock.now();
      const token = randomToken(32);
      const expiresAt = addSeconds(now, deps.ttlSeconds);
      const issued = { id: newId(), accountId, purpose: 'set_password' as const, tokenHash: sha256Hex(token), createdAt: now, expiresAt, consumedAt: null };
      const message = setPasswordEmail({ displayName: deps.displayName, account, link: deps.setPasswordUrl(token), ttlSeconds: deps.ttlSeconds });
      await deliverLink(deps.passwordResets, deps.delivery, issued, message, { type: 'password_reset.email_sent', ...who, data: { purpose: 'set_password', expiresAt: expiresAt.toISOString(), reference } });
    },
    (errorId, error) =>
      events.publish({ type: 'password_reset.email_failed', ...who, data: { email: 'set_password_link', errorId, error: error instanceof Error ? error.message : String(error), reference } }, clock.now()),
  );
}
