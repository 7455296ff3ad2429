/**
 * POST /interaction/:uid/password — the password step. Every failure (unknown account, wrong password,
 * suspended, closed, locked with a wrong password) answers the same page, message and status (401). The
 * right password on a locked account shows how to get unlocked. Success persists the progress and shows the
 * second-factor page (303 to the step page): the authenticator app code page for accounts with a confirmed
 * app that prefer it, otherwise the emailed code page (a code bound to this interaction is emailed).
 * The sign-in rate limits run before (throttle.ts); when the argon2 queue is full the step answers 503 with
 * `Retry-After` without counting a lockout attempt (identity's `admitPasswordWork`).
 */
import { z } from 'zod';
import { formText } from '../form-fields.js';
import { DomainError, toFieldErrors } from '../../lib/index.js';
import { admitPasswordWork, maskEmail, type Account } from '../../identity/index.js';
import { interactionOf, renderStep, urlsOf, type InteractionDeps, type StepHandler } from './context.js';
import { lockedPage, MESSAGES, signInPage } from './pages.js';
import { saveSignInState } from './state.js';
import { forgiveAttempt } from './throttle.js';

const passwordForm = z.object({
  login: formText('Enter your user ID or email.').trim().min(1, 'Enter your user ID or email.').max(320, 'A user ID or email has at most 320 characters.'),
  password: formText('Enter your password.').min(1, 'Enter your password.'),
});

/**
 * Puts a code for this interaction in the mail outbox (it is sent in the background, so a slow or failing mail
 * server never holds up this step). When one was sent moments ago (`rate_limited`) it still works, so the
 * sign-in continues with it.
 * @returns the masked address.
 * @throws DomainError `unavailable` (503) when the code cannot be stored.
 */
export async function sendCode(deps: InteractionDeps, account: Account, uid: string, context: { ip?: string; clientId: string }): Promise<string> {
  try {
    return (await deps.identity.emailOtp.send(account, uid, context)).sentTo;
  } catch (error) {
    if (error instanceof DomainError && error.code === 'rate_limited') return maskEmail(account.email);
    throw new DomainError('unavailable', 'We could not email your one-time code just now. Please try again in a few minutes.', { expose: true, cause: error });
  }
}

/** Checks the password. */
export function submitPassword(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    const input = passwordForm.safeParse(req.body ?? {});
    const login = typeof req.body?.login === 'string' ? req.body.login.trim().slice(0, 320) : '';
    if (!input.success) return signInPage(page, 400, { login, fieldErrors: toFieldErrors(input.error.issues) });
    const context = { ip: req.ip, clientId: String(interaction.params.client_id) };
    // Its place in the argon2 queue is taken first: a full queue answers 503 before a lockout attempt is counted.
    const result = await admitPasswordWork(() => deps.identity.passwordSignIn.verifyPassword(input.data.login, input.data.password, context));
    if (result.outcome === 'invalid') return signInPage(page, 401, { login, message: MESSAGES.invalidCredentials });
    if (result.outcome === 'locked') return lockedPage(page);
    await forgiveAttempt(deps, req, res);
    // Accounts with a confirmed authenticator app (and preferring it) get the app code page; no email is sent.
    const factor = await deps.identity.authenticators.signInFactor(result.account.id);
    const sentTo = factor === 'app' ? '' : await sendCode(deps, result.account, interaction.uid, context);
    await saveSignInState(interaction, { step: 'password_verified', accountId: result.account.id, sentTo, factor });
    res.redirect(303, urlsOf(deps, interaction).show);
  };
}
