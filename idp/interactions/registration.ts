/**
 * Authenticator app registration during sign-in, after the second factor passed (so a stolen password alone
 * can never register an app), when a re-registration campaign or the registration offer asks:
 *   POST /interaction/:uid/register          — "Register device": issues a new secret, shows the QR page
 *   POST /interaction/:uid/register/confirm  — the first code from the app confirms it (old app stops working)
 *   POST /interaction/:uid/register/skip     — "Skip this step" (until the campaign's deadline)
 */
import { z } from 'zod';
import { formCode } from '../form-fields.js';
import { DomainError, toFieldErrors } from '../../lib/index.js';
import { interactionOf, renderStep, urlsOf, type InteractionDeps, type StepHandler } from './context.js';
import { FACTOR_MESSAGES, registerDevicePage, registrationOfferPage } from './factor-pages.js';
import { continueAfterSecondFactor } from './finish.js';
import { MESSAGES, signInPage } from './pages.js';
import { readSignInState, saveSignInState } from './state.js';

const codeForm = z.object({
  code: formCode('Enter the 6-digit code the app shows for this account.'),
});

/** The offered state and its account, or null when this sign-in is not at the registration prompt. */
async function offered(deps: InteractionDeps, res: Parameters<StepHandler>[1]) {
  const state = readSignInState(interactionOf(res));
  if (state?.step !== 'registration_offered') return null;
  const view = await deps.identity.accounts.findAccount(state.accountId);
  return view ? { state, account: view.account } : null;
}

/** "Register device". */
export function startRegistration(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const current = await offered(deps, res);
    if (!current) return signInPage(renderStep(deps, req, res), 403, { message: MESSAGES.passwordFirst });
    await deps.identity.authenticators.beginRegistration(current.account, 'sign_in', { ip: req.ip });
    const interaction = interactionOf(res);
    await saveSignInState(interaction, { ...current.state, registering: true });
    res.redirect(303, urlsOf(deps, interaction).show);
  };
}

/** Confirms the registration with the app's first code, then continues the sign-in. */
export function confirmRegistration(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const page = renderStep(deps, req, res);
    const current = await offered(deps, res);
    if (!current?.state.registering) return signInPage(page, 403, { message: MESSAGES.passwordFirst });
    const { state, account } = current;
    const input = codeForm.safeParse(req.body ?? {});
    const setup = (await deps.identity.authenticators.findPendingSetup(account)) ?? (await deps.identity.authenticators.beginRegistration(account, 'sign_in', { ip: req.ip }));
    if (!input.success) return registerDevicePage(page, 400, setup, { fieldErrors: toFieldErrors(input.error.issues) });
    const result = await deps.identity.authenticators.completeRegistration(account, input.data.code, { ip: req.ip, clientId: String(interactionOf(res).params.client_id), campaignId: state.campaignId });
    if (result.outcome === 'ok') return continueAfterSecondFactor(deps, req, res, state, state.amr);
    if (result.outcome === 'expired') return registerDevicePage(page, 409, await deps.identity.authenticators.beginRegistration(account, 'sign_in', { ip: req.ip }), { message: FACTOR_MESSAGES.registrationExpired });
    return registerDevicePage(page, 401, setup, { message: FACTOR_MESSAGES.registrationCodeInvalid });
  };
}

/** "Skip this step": the current factor stays; refused after the campaign's skip deadline. */
export function skipRegistration(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const page = renderStep(deps, req, res);
    const current = await offered(deps, res);
    if (!current) return signInPage(page, 403, { message: MESSAGES.passwordFirst });
    const { state } = current;
    try {
      if (!state.skipAllowed) throw new DomainError('forbidden', 'The deadline for skipping has passed: register your device to continue.');
      await deps.identity.campaigns.skip(state.accountId, state.campaignId, { ip: req.ip });
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'forbidden')) throw error;
      return registrationOfferPage(page, 403, { skipAllowed: false, campaign: state.campaignId !== null, message: error.message });
    }
    return continueAfterSecondFactor(deps, req, res, state, state.amr);
  };
}
