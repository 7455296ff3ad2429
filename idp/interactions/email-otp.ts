/**
 * POST /interaction/:uid/email-otp — the emailed one-time code. Refused (403, back to the sign-in page)
 * unless the persisted state says the password step passed in this interaction; the code is checked for
 * that account and this interaction only. The code page always shows the true state of the code's email
 * ({@link showCodePage}).
 */
import { z } from 'zod';
import { formCode } from '../form-fields.js';
import { toFieldErrors } from '../../lib/index.js';
import { interactionOf, renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { completeSecondFactor } from './finish.js';
import { codePage, lockedPage, MESSAGES, signInPage, type StepPage } from './pages.js';
import { readSignInState } from './state.js';
import { forgiveAttempt } from './throttle.js';

/**
 * Renders the code page with what is true of this sign-in's code now: delivered, being sent, or failing
 * (identity's `CodeDelivery`).
 */
export async function showCodePage(deps: InteractionDeps, page: StepPage, status: number, state: { accountId: string; sentTo: string }, uid: string, extra: { message?: string; messageKind?: 'error' | 'info'; fieldErrors?: Record<string, string[]> } = {}) {
  // The masked address the step saved is shown as is (no account read); an empty one is looked up.
  return codePage(page, status, { delivery: await deps.identity.emailOtp.delivery(state.accountId, uid, state.sentTo || undefined), ...extra });
}

const codeForm = z.object({
  code: formCode('Enter the 6-digit code from the email.'),
});

/** Verifies the code. */
export function submitEmailOtp(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    const state = readSignInState(interaction);
    // An account asked for its authenticator app gets no emailed code unless it chose "Email me a code instead".
    if (state?.step !== 'password_verified' || state.factor === 'app') return signInPage(page, 403, { message: MESSAGES.passwordFirst });
    const input = codeForm.safeParse(req.body ?? {});
    if (!input.success) return showCodePage(deps, page, 400, state, interaction.uid, { fieldErrors: toFieldErrors(input.error.issues) });
    const context = { ip: req.ip, clientId: String(interaction.params.client_id) };
    const result = await deps.identity.emailOtp.verify(state.accountId, interaction.uid, input.data.code, context);
    if (result.outcome === 'ok') {
      await forgiveAttempt(deps, req, res);
      return completeSecondFactor(deps, req, res, state, result.amr);
    }
    if (result.outcome === 'locked') return lockedPage(page);
    const message = result.outcome === 'expired' ? MESSAGES.codeExpired : MESSAGES.codeInvalid;
    return showCodePage(deps, page, 401, state, interaction.uid, { message });
  };
}
