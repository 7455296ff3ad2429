/**
 * GET/POST /password/forgot — "Forgot password?": user ID or email and the registered mobile phone. Every
 * well-formed request gets the same page, status and timing, whether or not the details match an account
 * (the email is sent in the background); only malformed input (empty fields) gets field errors.
 */
import { z } from 'zod';
import { formText } from '../form-fields.js';
import { toFieldErrors } from '../../lib/index.js';
import { describeDuration } from '../../identity/index.js';
import { sendPage } from '../interactions/context.js';
import { renderRecoveryPage, type RecoveryHandler, type RecoveryPageDeps } from './context.js';

const forgotForm = z.object({
  login: formText('Enter your user ID or email.').trim().min(1, 'Enter your user ID or email.').max(320, 'A user ID or email has at most 320 characters.'),
  phone: formText('Enter your mobile phone number.').trim().min(1, 'Enter your mobile phone number.').max(40, 'A phone number has at most 40 characters.').regex(/\d/, 'Enter your mobile phone number.'),
});

/** GET: the empty form. */
export function showForgotForm(deps: RecoveryPageDeps): RecoveryHandler {
  return (req, res) => renderRecoveryPage(deps, req, res)(200, 'password-forgot', { title: 'Forgot password', login: '', phone: '' });
}

/** POST: validates, hands the request to identity's recovery service, answers the generic page. */
export function submitForgotForm(deps: RecoveryPageDeps): RecoveryHandler {
  return async (req, res) => {
    const input = forgotForm.safeParse(req.body ?? {});
    if (!input.success) {
      const echo = (name: string, max: number) => (typeof req.body?.[name] === 'string' ? String(req.body[name]).slice(0, max) : '');
      return renderRecoveryPage(deps, req, res)(400, 'password-forgot', { title: 'Forgot password', login: echo('login', 320), phone: echo('phone', 40), fieldErrors: toFieldErrors(input.error.issues) });
    }
    const resetUrl = (token: string) => `${deps.issuer}/password/reset/${token}`;
    await deps.identity.recovery.requestReset(input.data, resetUrl, { ip: req.ip });
    return sendPage(res, deps.render, 200, 'password-forgot-sent', { title: 'Check your email', validity: describeDuration(deps.ttlSeconds) });
  };
}
