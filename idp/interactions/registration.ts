/**
 * The registration prompt of sign-in, after both factors passed (so a stolen password alone can never register
 * a factor), when a factor asks (identity's `enroll.prompt`: a re-registration campaign or the registration offer
 * of the authenticator app, a policy):
 *   POST /interaction/:uid/register       — "Register device": begins the factor's registration, shows its page
 *   POST /interaction/:uid/register/skip  — "Skip this step" (until the campaign's deadline)
 * The registration's answer is the factor's own route (the app's: /register/confirm, app-code.ts).
 */
import type { InteractionDeps, StepHandler } from './context.js';
import { answer, bindingOf, stateOf } from './factor-step.js';

/** "Register device". */
export function startRegistration(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    await answer(deps, req, res, await deps.identity.signIn.startEnrollment(bindingOf(req, res), stateOf(res)));
  };
}

/** "Skip this step": the current factor stays; refused after the campaign's skip deadline. */
export function skipRegistration(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const state = stateOf(res);
    await answer(deps, req, res, await deps.identity.signIn.skipEnrollment(bindingOf(req, res), state), { factor: state?.step === 'enrollment' ? state.factor : undefined });
  };
}
