/**
 * POST /interaction/:uid/email-otp/resend — puts a new code for this interaction in the mail outbox and shows
 * the code page with its true state (normally "Sending your code…" for a moment). Earlier codes keep working
 * until the new one is delivered, so a resend during a mail outage takes nothing away. Throttled only after a
 * delivered code (identity's `rate_limited`, 429 with its message), never because of a code that did not arrive.
 */
import { DomainError } from '../../lib/index.js';
import { interactionOf, renderStep, urlsOf, type InteractionDeps, type StepHandler } from './context.js';
import { showCodePage } from './email-otp.js';
import { MESSAGES, signInPage } from './pages.js';
import { readSignInState } from './state.js';

/** Sends a new code. */
export function resendCode(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    const state = readSignInState(interaction);
    const view = state?.step === 'password_verified' && state.factor !== 'app' ? await deps.identity.accounts.findAccount(state.accountId) : null;
    if (!state || !view) return signInPage(page, 403, { message: MESSAGES.passwordFirst });
    try {
      await deps.identity.emailOtp.send(view.account, interaction.uid, { ip: req.ip, clientId: String(interaction.params.client_id) });
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'rate_limited')) throw error;
      return showCodePage(deps, page, 429, state, interaction.uid, { message: error.message });
    }
    // After the redirect the page shows whether the new code is on its way, delivered or failing.
    res.redirect(303, urlsOf(deps, interaction).show);
  };
}
