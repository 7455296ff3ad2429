/**
 * The authenticator app (TOTP, RFC 6238) as a factor strategy: a second step (`otp`, `swk`), enrolled once a
 * registration is confirmed. `verify` checks a code with the replay guard (./authenticator-app.ts); `enroll` is
 * the QR-code registration confirmed by a first code (./authenticator-service.ts), prompted at sign-in by a
 * re-registration campaign or the registration offer (./campaign-service.ts); `remove` needs a fresh code from
 * the holder, or is an administrator's reset.
 */
import { defineFactor, type FactorDeps } from '../registry.js';
import type { FactorStrategy } from '../strategy.js';
import { APP_AMR, createAuthenticatorAppFactor, type AuthenticatorAppFactor } from './authenticator-app.js';
import { createAuthenticatorService, type AuthenticatorService, type AuthenticatorSetup } from './authenticator-service.js';
import { createCampaignService, type CampaignService } from './campaign-service.js';

/** What the app's pages forward: a code as typed (sign-in, the registration's first code, a removal's fresh code). */
export interface AppCodeSubmission {
  code: string;
}

/** The app strategy, with the app's own services: codes, registrations and preference, campaigns. */
export interface AuthenticatorAppStrategy extends FactorStrategy<AppCodeSubmission, AuthenticatorSetup, AppCodeSubmission, AppCodeSubmission> {
  readonly app: AuthenticatorAppFactor;
  readonly registrations: AuthenticatorService;
  readonly campaigns: CampaignService;
}

/** Builds the app strategy. */
export function createAuthenticatorAppStrategy(deps: FactorDeps): AuthenticatorAppStrategy {
  const { stores, events, clock, authenticatorPolicy } = deps;
  const app = createAuthenticatorAppFactor({ authenticators: stores.authenticators, lockouts: stores.lockouts, events, clock, lockout: deps.lockout });
  const registrations = createAuthenticatorService({ ...stores, appFactor: app, events, mailer: deps.mailer, clock, displayName: deps.displayName, emailFallback: authenticatorPolicy.emailFallback });
  const campaigns = createCampaignService({ campaigns: stores.campaigns, authenticators: stores.authenticators, events, clock, policy: authenticatorPolicy });
  return {
    id: 'totp',
    amr: APP_AMR,
    steps: { second: true },
    events: [
      'account.signed_in', 'account.sign_in_failed', 'account.locked', 'authenticator.registration_started', 'authenticator.registered',
      'authenticator.removed', 'authenticator.reset', 'authenticator.reregistration_skipped', 'account.preferred_factor_changed',
    ],
    app,
    registrations,
    campaigns,
    isEnrolled: async (accountId, known) => (known ? known.confirmedApp : app.hasApp(accountId)),
    begin: async () => ({}),
    describe: async () => null,
    async verify(attempt, submission) {
      if (!attempt.accountId) return { outcome: 'invalid' };
      const result = await app.verify(attempt.accountId, submission.code, attempt.context, attempt.completes);
      return result.outcome === 'ok' ? { outcome: 'ok', accountId: attempt.accountId, amr: result.amr } : result;
    },
    enroll: {
      begin: (account, via, context) => registrations.beginRegistration(account, via, context),
      findPending: (account) => registrations.findPendingSetup(account),
      complete: (account, submission, context) => registrations.completeRegistration(account, submission.code, context),
      prompt: (accountId, known) => campaigns.registrationPrompt(accountId, known?.enrolled),
      skip: (accountId, campaignId, context) => campaigns.skip(accountId, campaignId, context),
    },
    remove: {
      byHolder: (account, proof, context) => registrations.removeApp(account, proof.code, context),
      byAdministrator: (account, actor) => registrations.resetByAdministrator(account, actor),
    },
  };
}

/** The app's registration entry (../index.ts). */
export const authenticatorAppFactor = defineFactor({ id: 'totp', create: createAuthenticatorAppStrategy });
