/**
 * The authenticator app's pages at sign-in (RFC 6238):
 *   POST /interaction/:uid/app-code                — checks a code from the app (replay-guarded, counts toward the lockout)
 *   POST /interaction/:uid/app-code/email-instead  — "Email me a code instead" (when the policy allows it)
 *   POST /interaction/:uid/register/confirm        — the app's first code confirms its registration (old app stops working)
 * Each is refused (403, back to the sign-in page) unless the sign-in flow is at that step in this interaction.
 * The registration prompt itself ("Register device" / "Skip this step") is registration.ts's.
 */
import { z } from 'zod';
import { formCode } from '../form-fields.js';
import { toFieldErrors } from '../../lib/index.js';
import type { AuthenticatorSetup } from '../../identity/index.js';
import { renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { appCodePage, FACTOR_MESSAGES, registerDevicePage, registrationOfferPage } from './app-pages.js';
import { answer, bindingOf, showView, stateOf, type FactorPages } from './factor-step.js';
import { forgiveAttempt } from './throttle.js';

const codeForm = z.object({
  code: formCode('Enter the 6-digit code your authenticator app shows.'),
});

const registrationForm = z.object({
  code: formCode('Enter the 6-digit code the app shows for this account.'),
});

/** Verifies the app code. */
export function submitAppCode(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const state = stateOf(res);
    const binding = bindingOf(req, res);
    const input = codeForm.safeParse(req.body ?? {});
    if (!input.success && state?.step === 'factor' && state.factor === 'totp') {
      return showView(deps, renderStep(deps, req, res), 400, await deps.identity.signIn.view(binding, state), { fieldErrors: toFieldErrors(input.error.issues) });
    }
    const result = await deps.identity.signIn.submitFactor(binding, state, 'totp', input.data);
    if (result.outcome !== 'refused') await forgiveAttempt(deps, req, res);
    await answer(deps, req, res, result, { factor: 'totp' });
  };
}

/** Switches this sign-in to an emailed code. */
export function emailInstead(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    await answer(deps, req, res, await deps.identity.signIn.chooseFactor(bindingOf(req, res), stateOf(res), 'otp'), { factor: 'totp' });
  };
}

/** Confirms the registration with the app's first code, then continues the sign-in. */
export function confirmRegistration(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const state = stateOf(res);
    const binding = bindingOf(req, res);
    const input = registrationForm.safeParse(req.body ?? {});
    if (!input.success && state?.step === 'enrollment' && state.enrolling && state.factor === 'totp') {
      return showView(deps, renderStep(deps, req, res), 400, await deps.identity.signIn.view(binding, state), { fieldErrors: toFieldErrors(input.error.issues) });
    }
    const asked = state?.step === 'enrollment' && state.factor === 'totp' ? state : undefined;
    await answer(deps, req, res, await deps.identity.signIn.completeEnrollment(binding, asked, input.data), { factor: 'totp' });
  };
}

/** The authenticator app's pages. */
export const appPages: FactorPages = {
  factor: 'totp',
  routes: [
    { path: '/app-code', attempt: true, handler: submitAppCode },
    { path: '/app-code/email-instead', attempt: false, handler: emailInstead },
    { path: '/register/confirm', attempt: false, handler: confirmRegistration },
  ],
  showStep: (_deps, page, status, view, form) => appCodePage(page, status, { emailFallback: view.alternatives.includes('otp'), ...form }),
  async showEnrollment(_deps, page, status, view, form) {
    if (view.setup) return registerDevicePage(page, status, view.setup as AuthenticatorSetup, form);
    return registrationOfferPage(page, status, { skipAllowed: view.skipAllowed, campaign: view.campaign, ...form });
  },
  messages: {
    factor: { invalid: FACTOR_MESSAGES.appCodeInvalid, forbidden: 'Sign-in with this account needs a code from your authenticator app.' },
    enrollment: { invalid: FACTOR_MESSAGES.registrationCodeInvalid, expired: FACTOR_MESSAGES.registrationExpired },
  },
};
