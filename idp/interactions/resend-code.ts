/**
 * POST /interaction/:uid/email-otp/resend — emails a new code for this interaction (earlier ones stop
 * working). The identity service throttles resends; its `rate_limited` message is shown (429).
 */
import { DomainError } from '../../lib/index.js';
import { interactionOf, renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { codePage, MESSAGES, signInPage } from './pages.js';
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
      const { sentTo } = await deps.identity.emailOtp.send(view.account, interaction.uid, { ip: req.ip, clientId: String(interaction.params.client_id) });
      return codePage(page, 200, { sentTo, message: `We sent a new code to ${sentTo}. Earlier codes no longer work.`, messageKind: 'info' });
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'rate_limited')) throw error;
      return codePage(page, 429, { sentTo: state.sentTo, message: error.message });
    }
  };
}
