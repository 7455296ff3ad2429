/**
 * GET /interaction/:uid — shows the page of the step the interaction is at: consent, sign-in, emailed or app
 * code, registration prompt or QR page, organization choice. Reloading a page shows the same step again.
 */
import { interactionOf, renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { consentPage } from './consent.js';
import { showCodePage } from './email-otp.js';
import { organizationPage, signInPage } from './pages.js';
import { appCodePage, registerDevicePage, registrationOfferPage } from './factor-pages.js';
import { readSignInState, type SignInState } from './state.js';
import type { StepPage } from './pages.js';

/** Renders the current step. */
export function showInteraction(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    if (interaction.prompt.name === 'consent') return consentPage(deps, page, interaction);
    const state = readSignInState(interaction);
    if (!state) return signInPage(page, 200);
    if (state.step === 'password_verified' && state.factor === 'app') return appCodePage(page, 200, { emailFallback: deps.identity.authenticatorPolicy.emailFallback });
    if (state.step === 'password_verified') return showCodePage(deps, page, 200, state, interaction.uid);
    if (state.step === 'registration_offered') return showRegistration(deps, page, state);
    const view = await deps.identity.accounts.findAccount(state.accountId);
    return organizationPage(page, 200, view?.memberships ?? []);
  };
}

/** The registration prompt, or the QR page of the pending registration (a new one when it expired). */
async function showRegistration(deps: InteractionDeps, page: StepPage, state: Extract<SignInState, { step: 'registration_offered' }>): Promise<void> {
  const view = state.registering ? await deps.identity.accounts.findAccount(state.accountId) : null;
  if (!view) return registrationOfferPage(page, 200, { skipAllowed: state.skipAllowed, campaign: state.campaignId !== null });
  const setup = (await deps.identity.authenticators.findPendingSetup(view.account)) ?? (await deps.identity.authenticators.beginRegistration(view.account, 'sign_in'));
  return registerDevicePage(page, 200, setup);
}
