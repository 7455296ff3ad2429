/**
 * Registering, replacing and removing an authenticator app (RFC 6238), the preferred second factor, and the
 * administrator's reset. A registration counts only when a correct code from the new app confirms it; the
 * confirming code's time step is stored, so that code cannot sign in afterwards (design/security.md §4).
 * Confirming replaces the previous app in the same transaction. Every change emails the account holder. Removing
 * or replacing the app from a session (`context.sessionUid`) ends every other session and grant of the account
 * (../accounts/end-other-sessions.ts).
 */
import { addSeconds, DomainError, newId, type Clock, type Mailer } from '../../../lib/index.js';
import { AUTHENTICATOR_PENDING_TTL_SECONDS, type SecondFactor } from '../../../policies/index.js';
import type { AuthenticatorAppFactor } from './authenticator-app.js';
import type { AttemptContext } from '../../authentication/sign-in.js';
import { newTotpSecret, totpUri, verifyTotp } from './totp.js';
import type { EventBus } from '../../events.js';
import type { Account } from '../../model.js';
import type { AccountSessionRevoker } from '../../recovery/stores.js';
import type { AccountStore } from '../../stores.js';
import type { AuthenticatorStore, CampaignStore } from './stores.js';
import { endOtherSessions, type CredentialChangeContext } from '../../accounts/end-other-sessions.js';
import { notifyAccountHolder } from '../../authenticators/notify.js';

/** What an app needs to be set up: the Base32 secret (manual entry) and the `otpauth://` URI (QR code, mobile link). */
export interface AuthenticatorSetup {
  secret: string;
  uri: string;
}

/** Result of {@link AuthenticatorService.completeRegistration}. */
export type RegistrationOutcome = { outcome: 'ok'; replaced: boolean } | { outcome: 'invalid' } | { outcome: 'expired' };

/** Result of a change that needs a fresh code from the current app. */
export type FreshCodeOutcome = { outcome: 'ok' } | { outcome: 'invalid' } | { outcome: 'locked' };

/** Where a registration was started, for the audit log. */
export type RegistrationVia = 'sign_in' | 'account_page';

/** Authenticator app management. */
export interface AuthenticatorService {
  /** Issues a new pending secret (replacing an earlier pending one); the confirmed app, if any, keeps working. */
  beginRegistration(account: Account, via: RegistrationVia, context?: AttemptContext): Promise<AuthenticatorSetup>;
  /** The pending setup still within {@link AUTHENTICATOR_PENDING_TTL_SECONDS}, or null (to redisplay the page). */
  findPendingSetup(account: Account): Promise<AuthenticatorSetup | null>;
  /**
   * Confirms the pending registration with a code from the new app (RFC 6238 §4, ±1 step). On success the new
   * app replaces the old one at once, the code's step is consumed, campaign responses are recorded, the person is emailed.
   * A replacement with `context.sessionUid` ends every other session and grant of the account.
   * @returns `expired` when there is no pending registration or it is too old; `invalid` for a wrong code.
   */
  completeRegistration(account: Account, code: string, context?: CredentialChangeContext & { campaignId?: string | null }): Promise<RegistrationOutcome>;
  /**
   * Removes the confirmed app after a fresh code from it (counts toward the lockout when wrong). With
   * `context.sessionUid`, every other session and grant of the account ends.
   */
  removeApp(account: Account, code: string, context?: CredentialChangeContext): Promise<FreshCodeOutcome>;
  /** Starts a replacement after a fresh code from the current app; the current app works until the new one is confirmed. */
  beginReplacement(account: Account, code: string, context?: AttemptContext): Promise<FreshCodeOutcome & { setup?: AuthenticatorSetup }>;
  /**
   * An administrator removes the account's app (the person falls back to emailed codes and may register again).
   * @returns true when an app was registered.
   */
  resetByAdministrator(account: Account, actor: string): Promise<boolean>;
  /** The factor sign-in asks for: `app` when an app is confirmed and preferred (or the email fallback is forbidden), else `email`. */
  signInFactor(accountId: string): Promise<SecondFactor>;
  /** The stored preference (meaningful only with an app). */
  preferredFactor(accountId: string): Promise<SecondFactor>;
  /** @throws DomainError `validation_failed` when choosing `app` without a confirmed app, or `email` when the policy forbids it. */
  setPreferredFactor(account: Account, factor: SecondFactor, context?: AttemptContext): Promise<void>;
}

/** What {@link createAuthenticatorService} needs. */
export interface AuthenticatorServiceDeps {
  accounts: AccountStore;
  /** Ends the other sessions after a removal or replacement. */
  accountSessions: AccountSessionRevoker;
  authenticators: AuthenticatorStore;
  campaigns: CampaignStore;
  appFactor: AuthenticatorAppFactor;
  events: EventBus;
  mailer: Mailer;
  clock: Clock;
  displayName: string;
  /** Policy: accounts with an app may use emailed codes (policies/authenticator.ts `emailFallback`). */
  emailFallback: boolean;
}

/** Creates the service. */
export function createAuthenticatorService(deps: AuthenticatorServiceDeps): AuthenticatorService {
  const { authenticators, accountSessions, campaigns, appFactor, events, mailer, clock, displayName, emailFallback } = deps;
  const setupOf = (account: Account, secret: string): AuthenticatorSetup => ({ secret, uri: totpUri({ issuer: displayName, label: account.userId, secret }) });
  const notify = (account: Account, subject: string, body: string) => notifyAccountHolder(mailer, displayName, account, subject, body);

  async function beginRegistration(account: Account, via: RegistrationVia, context: AttemptContext = {}): Promise<AuthenticatorSetup> {
    const now = clock.now();
    const secret = newTotpSecret();
    await authenticators.savePending({ id: newId(), accountId: account.id, status: 'pending', secret, createdAt: now, confirmedAt: null, lastUsedStep: null });
    await events.publish({ type: 'authenticator.registration_started', accountId: account.id, ip: context.ip, data: { via } }, now);
    return setupOf(account, secret);
  }

  async function freshPending(account: Account) {
    const pending = await authenticators.findPending(account.id);
    return pending && addSeconds(pending.createdAt, AUTHENTICATOR_PENDING_TTL_SECONDS) > clock.now() ? pending : null;
  }

  return {
    beginRegistration,
    async findPendingSetup(account) {
      const pending = await freshPending(account);
      return pending ? setupOf(account, pending.secret) : null;
    },
    async completeRegistration(account, code, context = {}) {
      const pending = await freshPending(account);
      if (!pending) return { outcome: 'expired' };
      const step = await verifyTotp(pending.secret, code, clock.now(), null);
      if (step === null) return { outcome: 'invalid' };
      const confirmed = await authenticators.confirm(pending.id, account.id, step, clock.now());
      if (!confirmed) return { outcome: 'expired' };
      const replaced = confirmed.previousConfirmedAt !== null;
      if (confirmed.previousConfirmedAt) await campaigns.recordReRegistration(account.id, confirmed.previousConfirmedAt, clock.now());
      const ended = replaced ? await endOtherSessions(accountSessions, account.id, context, clock.now()) : null;
      const notified = await notify(account, replaced ? 'your authenticator app was replaced' : 'an authenticator app was registered',
        replaced ? 'A new authenticator app was registered for your account. Codes from your previous app no longer work.' : 'An authenticator app was registered for your account. From now on, sign-in asks for a code from it.');
      await events.publish({ type: 'authenticator.registered', accountId: account.id, ip: context.ip, data: { replaced, campaignId: context.campaignId ?? null, notified, ...ended } }, clock.now());
      return { outcome: 'ok', replaced };
    },
    async removeApp(account, code, context = {}) {
      const checked = await appFactor.verifyFresh(account.id, code, context);
      if (checked.outcome !== 'ok') return checked.outcome === 'locked' ? { outcome: 'locked' } : { outcome: 'invalid' };
      const registration = await authenticators.findConfirmed(account.id);
      if (!registration || !(await authenticators.removeConfirmed(account.id, registration.id))) return { outcome: 'invalid' };
      const ended = await endOtherSessions(accountSessions, account.id, context, clock.now());
      const notified = await notify(account, 'your authenticator app was removed', 'The authenticator app was removed from your account. Sign-in now sends a one-time code to this email address.');
      await events.publish({ type: 'authenticator.removed', accountId: account.id, ip: context.ip, data: { notified, ...ended } }, clock.now());
      return { outcome: 'ok' };
    },
    async beginReplacement(account, code, context = {}) {
      const checked = await appFactor.verifyFresh(account.id, code, context);
      if (checked.outcome !== 'ok') return checked.outcome === 'locked' ? { outcome: 'locked' } : { outcome: 'invalid' };
      return { outcome: 'ok', setup: await beginRegistration(account, 'account_page', context) };
    },
    async resetByAdministrator(account, actor) {
      const removed = await authenticators.removeAll(account.id);
      const notified = removed
        ? await notify(account, 'your authenticator app was reset', 'An administrator removed the authenticator app from your account. Sign-in now sends a one-time code to this email address; you may register an app again from your account page.')
        : false;
      await events.publish({ type: 'authenticator.reset', accountId: account.id, actor, data: { removed, notified } }, clock.now());
      return removed;
    },
    async signInFactor(accountId) {
      if (!(await appFactor.hasApp(accountId))) return 'email';
      return emailFallback ? authenticators.findPreferredFactor(accountId) : 'app';
    },
    preferredFactor: (accountId) => authenticators.findPreferredFactor(accountId),
    async setPreferredFactor(account, factor, context = {}) {
      if (factor === 'app' && !(await appFactor.hasApp(account.id))) {
        throw new DomainError('validation_failed', 'Register an authenticator app before making it your default.', { fieldErrors: { factor: ['You have no authenticator app yet.'] } });
      }
      if (factor === 'email' && !emailFallback && (await appFactor.hasApp(account.id))) {
        throw new DomainError('validation_failed', 'This deployment requires the authenticator app for accounts that have one.', { fieldErrors: { factor: ['Emailed codes are not allowed while you have an app.'] } });
      }
      await authenticators.setPreferredFactor(account.id, factor, clock.now());
      const notified = await notify(account, 'your default sign-in factor changed', factor === 'app' ? 'Sign-in now asks for a code from your authenticator app by default.' : 'Sign-in now emails you a one-time code by default.');
      await events.publish({ type: 'account.preferred_factor_changed', accountId: account.id, ip: context.ip, data: { factor, notified } }, clock.now());
    },
  };
}
