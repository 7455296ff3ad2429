/**
 * The authenticator app step of sign-in (RFC 6238):
 *   POST /interaction/:uid/app-code                — checks a code from the app (replay-guarded, counts toward the lockout)
 *   POST /interaction/:uid/app-code/email-instead  — "Email me a code instead" (when the policy allows it)
 * Both need the persisted state to say the password passed in this interaction and the app factor is asked for.
 */
import { z } from 'zod';
import { formCode } from '../form-fields.js';
import { toFieldErrors } from '../../lib/index.js';
import { interactionOf, renderStep, urlsOf, type InteractionDeps, type StepHandler } from './context.js';
import { appCodePage, FACTOR_MESSAGES } from './factor-pages.js';
import { completeSecondFactor } from './finish.js';
import { lockedPage, MESSAGES, signInPage } from './pages.js';
import { sendCode } from './password.js';
import { readSignInState, saveSignInState } from './state.js';
import { forgiveAttempt } from './throttle.js';

const codeForm = z.object({
  code: formCode('Enter the 6-digit code your authenticator app shows.'),
});

/** Verifies the app code. */
export function submitAppCode(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    const state = readSignInState(interaction);
    if (state?.step !== 'password_verified' || state.factor !== 'app') return signInPage(page, 403, { message: MESSAGES.passwordFirst });
    const emailFallback = deps.identity.authenticatorPolicy.emailFallback;
    const input = codeForm.safeParse(req.body ?? {});
    if (!input.success) return appCodePage(page, 400, { emailFallback, fieldErrors: toFieldErrors(input.error.issues) });
    const result = await deps.identity.authenticatorApp.verify(state.accountId, input.data.code, { ip: req.ip, clientId: String(interaction.params.client_id) });
    if (result.outcome === 'ok') {
      await forgiveAttempt(deps, req, res);
      return completeSecondFactor(deps, req, res, state, result.amr);
    }
    if (result.outcome === 'locked') return lockedPage(page);
    return appCodePage(page, 401, { emailFallback, message: FACTOR_MESSAGES.appCodeInvalid });
  };
}

/** Switches this sign-in to an emailed code. */
export function emailInstead(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    const state = readSignInState(interaction);
    const view = state?.step === 'password_verified' ? await deps.identity.accounts.findAccount(state.accountId) : null;
    if (state?.step !== 'password_verified' || !view) return signInPage(page, 403, { message: MESSAGES.passwordFirst });
    if (!deps.identity.authenticatorPolicy.emailFallback) return appCodePage(page, 403, { emailFallback: false, message: 'Sign-in with this account needs a code from your authenticator app.' });
    const sentTo = await sendCode(deps, view.account, interaction.uid, { ip: req.ip, clientId: String(interaction.params.client_id) });
    await saveSignInState(interaction, { step: 'password_verified', accountId: state.accountId, sentTo, factor: 'email' });
    res.redirect(303, urlsOf(deps, interaction).show);
  };
}
