/**
 * The emailed one-time code's pages:
 *   POST /interaction/:uid/email-otp          — checks the code (counts toward the lockout)
 *   POST /interaction/:uid/email-otp/resend   — puts a new code in the mail outbox
 * Both are refused (403, back to the sign-in page) unless the sign-in flow asks this factor in this interaction;
 * the code is checked for that account and this interaction only. The code page always shows the true state of
 * the code's email (identity's `CodeDelivery`: delivered, being sent, or failing). A resend is throttled only after
 * a delivered code (429 with the wait), never because of a code that did not arrive; earlier codes keep working
 * until the new one is delivered.
 */
import { z } from 'zod';
import { formCode } from '../form-fields.js';
import { toFieldErrors } from '../../lib/index.js';
import type { CodeDelivery } from '../../identity/index.js';
import { renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { answer, bindingOf, showView, stateOf, type FactorPages } from './factor-step.js';
import { codePage, MESSAGES } from './pages.js';
import { forgiveAttempt } from './throttle.js';

const codeForm = z.object({
  code: formCode('Enter the 6-digit code from the email.'),
});

/** Verifies the code. */
export function submitEmailOtp(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const state = stateOf(res);
    const binding = bindingOf(req, res);
    const input = codeForm.safeParse(req.body ?? {});
    if (!input.success && state?.step === 'factor' && state.factor === 'otp') {
      return showView(deps, renderStep(deps, req, res), 400, await deps.identity.signIn.view(binding, state), { fieldErrors: toFieldErrors(input.error.issues) });
    }
    const result = await deps.identity.signIn.submitFactor(binding, state, 'otp', input.data);
    if (result.outcome !== 'refused') await forgiveAttempt(deps, req, res);
    await answer(deps, req, res, result, { factor: 'otp' });
  };
}

/** Sends a new code; after the redirect the page shows whether it is on its way, delivered or failing. */
export function resendCode(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    await answer(deps, req, res, await deps.identity.signIn.beginAgain(bindingOf(req, res), stateOf(res), 'otp'), { factor: 'otp' });
  };
}

/** The emailed code's pages. */
export const emailOtpPages: FactorPages = {
  factor: 'otp',
  routes: [
    { path: '/email-otp', attempt: true, handler: submitEmailOtp },
    { path: '/email-otp/resend', attempt: false, handler: resendCode },
  ],
  showStep: (_deps, page, status, view, form) => codePage(page, status, { delivery: view.status as CodeDelivery, ...form }),
  messages: { factor: { invalid: MESSAGES.codeInvalid, expired: MESSAGES.codeExpired } },
};
