/**
 * GET/POST /password/reset/:token and /password/set/:token — the emailed link ("Forgot password?" or a new
 * account's set-password link; the token's purpose picks the wording: "Choose a new password" or "Set your
 * password"). GET only shows the form (mail scanners that prefetch links must not use them up); the POST that
 * sets the password consumes the token. An expired, used or superseded link gets one page: "This link is no
 * longer valid — request a new one" (410).
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { formText } from '../form-fields.js';
import { describeDuration, type LinkPurpose } from '../../identity/index.js';
import { toFieldErrors } from '../../lib/index.js';
import { PASSWORD_MIN_LENGTH } from '../../policies/index.js';
import { sendPage } from '../interactions/context.js';
import { renderRecoveryPage, type RecoveryHandler, type RecoveryPageDeps } from './context.js';

const resetForm = z
  .object({ password: formText('Enter a new password.').min(1, 'Enter a new password.'), confirmPassword: formText('Type the new password again.') })
  .refine((f) => f.password === f.confirmPassword, { path: ['confirmPassword'], message: 'The two passwords are not the same. Type the new password twice.' });

const tokenOf = (req: Request) => String(req.params.token ?? '');

/** The "no longer valid" page. */
function invalidLink(deps: RecoveryPageDeps, res: Response): Promise<void> {
  return sendPage(res, deps.render, 410, 'password-reset-invalid', { title: 'This link is no longer valid', validity: describeDuration(deps.ttlSeconds) });
}

/** The wording of each kind of link: page title, form path, and the title of the page after success. */
const WORDING = {
  reset: { title: 'Choose a new password', path: 'reset', done: 'Password changed' },
  set_password: { title: 'Set your password', path: 'set', done: 'Password set' },
} as const satisfies Record<LinkPurpose, { title: string; path: string; done: string }>;

/** The new-password form of a usable link. */
function resetPage(deps: RecoveryPageDeps, req: Request, res: Response, status: number, link: { userId: string; purpose: LinkPurpose }, fieldErrors?: Record<string, string[]>): Promise<void> {
  const { title, path } = WORDING[link.purpose];
  const action = `${deps.basePath}/password/${path}/${encodeURIComponent(tokenOf(req))}`;
  return renderRecoveryPage(deps, req, res)(status, 'password-reset', { title, purpose: link.purpose, userId: link.userId, action, minLength: PASSWORD_MIN_LENGTH, fieldErrors });
}

/** GET: the form when the link is usable, else the invalid-link page. Never consumes the token. */
export function showResetForm(deps: RecoveryPageDeps): RecoveryHandler {
  return async (req, res) => {
    const link = await deps.identity.recovery.findResetLink(tokenOf(req));
    return link ? resetPage(deps, req, res, 200, link) : invalidLink(deps, res);
  };
}

/** POST: checks the form and the password policy, then sets the password through the link (once). */
export function submitResetForm(deps: RecoveryPageDeps): RecoveryHandler {
  return async (req, res) => {
    const link = await deps.identity.recovery.findResetLink(tokenOf(req));
    if (!link) return invalidLink(deps, res);
    const input = resetForm.safeParse(req.body ?? {});
    if (!input.success) return resetPage(deps, req, res, 400, link, toFieldErrors(input.error.issues));
    const result = await deps.identity.recovery.completeReset(tokenOf(req), input.data.password, { ip: req.ip });
    if (result.outcome === 'invalid_link') return invalidLink(deps, res);
    if (result.outcome === 'rejected') return resetPage(deps, req, res, 400, link, result.fieldErrors);
    return sendPage(res, deps.render, 200, 'password-reset-done', { title: WORDING[result.purpose].done, purpose: result.purpose, userId: result.userId });
  };
}
