/**
 * The passkey (WebAuthn) as a factor strategy (../strategy.ts):
 *
 * - **first step that completes** (`steps.first: 'completes'`): a passwordless sign-in, from the sign-in page's
 *   "Sign in with a passkey" button or browser autofill. `begin` with no account does nothing (the page's module
 *   fetches request options from the passkey route, so showing the sign-in page costs no database write); `verify`
 *   finds the account from the discoverable credential and counts as both factors (claims.ts).
 * - **second step** (`steps.second`): after the password, for an account with a passkey. `describe` issues fresh
 *   request options each time the step page is shown (so a failed try can simply be tried again), bound to the
 *   interaction and the account.
 * - `verify` returns `acr` `phr` and the `amr` of claims.ts, records `account.signed_in` (authentication.ts).
 * - **enroll**: the creation ceremony of registration.ts, prompted at sign-in when the operator's rule requires
 *   a phishing-resistant factor of a delegated administrator with no passkey (../phishing-resistant-policy.ts):
 *   "Skip this step" until the grace period ends, then only "Register".
 * - **remove**: the holder removes one passkey (account page); an administrator's reset removes them all.
 */
import { DomainError } from '../../../lib/index.js';
import { createPhishingResistantPolicyService } from '../phishing-resistant-policy.js';
import { defineFactor, type FactorDeps } from '../registry.js';
import type { FactorChallenge, FactorOutcome, FactorStrategy } from '../strategy.js';
import { PASSKEY_FACTOR, type PasskeyCeremony } from './authentication.js';
import { PHISHING_RESISTANT_ACR } from './claims.js';
import { checkPasskeyName, createPasskeyService, type PasskeyService } from './registration.js';
import { relyingPartyOf } from './relying-party.js';

/** What the passkey pages forward at sign-in: the browser's answer (AuthenticationResponseJSON), parsed. */
export interface PasskeySignInSubmission {
  response: unknown;
}

/** What the registration page at sign-in forwards: the name and the browser's answer (RegistrationResponseJSON), parsed. */
export interface PasskeyEnrollSubmission {
  name: string;
  response: unknown;
}

/** What the registration page at sign-in shows: the creation options (WebAuthn §5.4 JSON), serialised. */
export interface PasskeySetup {
  optionsJson: string;
}

/** Which passkey the holder removes. */
export interface PasskeyRemovalProof {
  passkeyId: string;
}

/** The passkey strategy, with the passkey service (registration, sign-in ceremonies, list). */
export interface PasskeyStrategy extends FactorStrategy<PasskeySignInSubmission, PasskeySetup, PasskeyEnrollSubmission, PasskeyRemovalProof> {
  /** The `acr` a verification gives (OIDC Core §2): {@link PHISHING_RESISTANT_ACR}. */
  readonly acr: typeof PHISHING_RESISTANT_ACR;
  readonly service: PasskeyService;
}

/** The registration ceremony at sign-in is keyed by the interaction when the flow gives it, else by the account. */
const enrollmentKey = (accountId: string, sessionUid: string | undefined) => sessionUid ?? `sign-in:${accountId}`;

/** Builds the passkey strategy. */
export function createPasskeyStrategy(deps: FactorDeps): PasskeyStrategy {
  const { stores, events, clock } = deps;
  const service = createPasskeyService({
    passkeys: stores.passkeys, accounts: stores.accounts, lockouts: stores.lockouts, lockout: deps.lockout, events, mailer: deps.mailer, clock,
    relyingParty: relyingPartyOf(deps.issuer, deps.displayName), displayName: deps.displayName,
  });
  const policy = createPhishingResistantPolicyService({
    rules: stores.phishingResistantRules, memberships: (id) => stores.accounts.listMemberships(id),
    passkeyCount: async (id) => (await stores.passkeys.listActive(id)).length, events, clock,
  });

  return {
    id: PASSKEY_FACTOR,
    amr: ['hwk', 'swk', 'user', 'mfa'],
    acr: PHISHING_RESISTANT_ACR,
    steps: { first: 'completes', second: true },
    events: ['account.signed_in', 'account.sign_in_failed', 'account.locked', 'passkey.registered', 'passkey.removed', 'passkey.clone_refused'],
    service,
    isEnrolled: async (accountId, known) => (known ? known.passkeys > 0 : service.hasPasskey(accountId)),
    begin: async () => ({}),

    async describe(accountId, binding): Promise<FactorChallenge | null> {
      if (accountId === null) return null;
      const options = await service.beginAuthentication({ mode: 'password', interactionUid: binding.bindingId, accountId });
      return { optionsJson: JSON.stringify(options) };
    },

    async verify(attempt, submission): Promise<FactorOutcome> {
      const ceremony: PasskeyCeremony = attempt.accountId === null
        ? { mode: 'passwordless', interactionUid: attempt.bindingId }
        : { mode: 'password', interactionUid: attempt.bindingId, accountId: attempt.accountId };
      const result = await service.completeAuthentication(ceremony, submission.response, attempt.context);
      if (result.outcome === 'ok') return { outcome: 'ok', accountId: result.accountId, amr: result.amr, acr: result.acr };
      if (result.outcome === 'expired' || result.outcome === 'locked') return { outcome: result.outcome };
      return { outcome: 'invalid' };
    },

    enroll: {
      async begin(account, _via, context) {
        return { optionsJson: JSON.stringify(await service.beginRegistration(account, enrollmentKey(account.id, context?.sessionUid))) };
      },
      async findPending(account, context) {
        const options = await service.findPendingRegistration(account, enrollmentKey(account.id, context?.sessionUid));
        return options ? { optionsJson: JSON.stringify(options) } : null;
      },
      async complete(account, submission, context) {
        const result = await service.completeRegistration(account, enrollmentKey(account.id, context?.sessionUid), { name: checkPasskeyName(submission.name), response: submission.response }, { ip: context?.ip ?? undefined });
        return result.outcome === 'ok' ? { outcome: 'ok', replaced: false } : result.outcome === 'expired' ? { outcome: 'expired' } : { outcome: 'invalid' };
      },
      async prompt(accountId, known) {
        // The memberships the sign-in read decide whether any rule concerns the account; its passkeys are read fresh.
        const requirement = await policy.requirementAtSignIn(accountId, known?.view ? known.view.memberships : undefined);
        return requirement?.askToRegister ? { campaignId: null, skipAllowed: !requirement.mustRegisterNow } : null;
      },
      async skip(accountId) {
        if ((await policy.requirementFor(accountId)).mustRegisterNow) {
          throw new DomainError('forbidden', 'Your organization requires a passkey and the time to register one has passed: register a passkey to continue.', { expose: true });
        }
      },
    },

    remove: {
      async byHolder(account, proof, context) {
        return (await service.remove(account, proof.passkeyId, { ip: context?.ip ?? undefined })) ? { outcome: 'ok' } : { outcome: 'invalid' };
      },
      async byAdministrator(account) {
        const removed = await Promise.all((await service.list(account.id)).map((p) => service.remove(account, p.id)));
        return removed.some(Boolean);
      },
    },
  };
}

/** The passkey's registration entry (../index.ts). */
export const passkeyFactor = defineFactor({ id: PASSKEY_FACTOR, create: createPasskeyStrategy });
