/**
 * POST /interaction/:uid/password — the password, the sign-in's first step. The page checks the form and
 * forwards it to identity's sign-in flow, which answers the next step (the second factor's page, 303) or a
 * refusal. Every failure (unknown account, wrong password, suspended, closed, locked with a wrong password)
 * answers the same page, message and status (401); the right password on a locked account shows how to get
 * unlocked. The sign-in rate limits run before (throttle.ts); when the argon2 queue is full the step answers 503
 * with `Retry-After` without counting a lockout attempt (the password factor's `admitPasswordWork`).
 */
import { z } from 'zod';
import { formText } from '../form-fields.js';
import { toFieldErrors } from '../../lib/index.js';
import { renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { answer, bindingOf, showView, type FactorPages } from './factor-step.js';
import { MESSAGES } from './pages.js';
import { forgiveAttempt } from './throttle.js';

const passwordForm = z.object({
  login: formText('Enter your user ID or email.').trim().min(1, 'Enter your user ID or email.').max(320, 'A user ID or email has at most 320 characters.'),
  password: formText('Enter your password.').min(1, 'Enter your password.'),
});

/** Checks the password. */
export function submitPassword(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const binding = bindingOf(req, res);
    const input = passwordForm.safeParse(req.body ?? {});
    const login = typeof req.body?.login === 'string' ? req.body.login.trim().slice(0, 320) : '';
    if (!input.success) return showView(deps, renderStep(deps, req, res), 400, await deps.identity.signIn.view(binding, undefined), { login, fieldErrors: toFieldErrors(input.error.issues) });
    const result = await deps.identity.signIn.submitFirst(binding, 'pwd', input.data);
    if (result.outcome !== 'refused') await forgiveAttempt(deps, req, res);
    await answer(deps, req, res, result, { factor: 'pwd', login });
  };
}

/** The password's pages: the sign-in page itself is the interactions' own (pages.ts `signInPage`). */
export const passwordPages: FactorPages = {
  factor: 'pwd',
  routes: [{ path: '/password', attempt: true, handler: submitPassword }],
  messages: { first: { invalid: MESSAGES.invalidCredentials } },
};
