/**
 * POST handlers of `/account`. Each validates its form with zod, calls one identity service, then redirects
 * (303) to the overview with a confirmation, or re-renders with field errors (never a 500 for a mistake).
 * Replacing or removing the app needs a fresh code from it (lockout-counted, replay-guarded); changing the
 * password needs the current one. Every change emails the account holder (identity/ does); changing the password and
 * removing or replacing the app end every other session of the account (the one on this page stays).
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { formCode, formText } from '../form-fields.js';
import type { FreshCodeOutcome } from '../../identity/index.js';
import { DomainError, toFieldErrors } from '../../lib/index.js';
import { SECOND_FACTORS } from '../../policies/index.js';
import { accountPage, accountRegisterPage, type AccountDeps } from './account-pages.js';
import { accountSessionOf } from './account-session.js';

type Handler = (req: Request, res: Response) => Promise<void>;

const codeForm = z.object({ code: formCode('Enter the 6-digit code your authenticator app shows.') });
const factorForm = z.object({ factor: z.enum(SECOND_FACTORS, 'Choose the app or email.') });
const passwordForm = z.object({
  currentPassword: formText('Enter your current password.').min(1, 'Enter your current password.').max(1024, 'A password has at most 1024 characters.'),
  newPassword: formText('Enter your new password.').min(1, 'Enter your new password.').max(1024, 'A password has at most 1024 characters.'),
  confirmPassword: formText('Enter your new password again.').min(1, 'Enter your new password again.').max(1024, 'A password has at most 1024 characters.'),
});
const FRESH_CODE_MESSAGES = { invalid: 'That code is not correct, or was already used. Enter the current code from your authenticator app.', locked: 'Too many wrong codes: your account is locked. Ask your delegated administrator to unlock it.' };

async function current(deps: AccountDeps, res: Response) {
  return (await deps.identity.accounts.findAccount(accountSessionOf(res).accountId))!.account;
}
const done = (deps: AccountDeps, res: Response, what: string) => res.redirect(303, `${deps.accountPath}?done=${what}`);
const refusedFresh = (deps: AccountDeps, req: Request, res: Response, outcome: Exclude<FreshCodeOutcome['outcome'], 'ok'>) => accountPage(deps, req, res, outcome === 'locked' ? 403 : 401, { message: FRESH_CODE_MESSAGES[outcome] });

/** Starts registering an app when the account has none. */
export const registerApp = (deps: AccountDeps): Handler => async (req, res) => {
  const account = await current(deps, res);
  if (await deps.identity.authenticatorApp.hasApp(account.id)) return accountPage(deps, req, res, 409, { message: 'You already have an authenticator app. Use "Replace app" to register another one.' });
  return accountRegisterPage(deps, req, res, 200, await deps.identity.authenticators.beginRegistration(account, 'account_page', { ip: req.ip }));
};

/** Starts a replacement after a fresh code from the current app. */
export const replaceApp = (deps: AccountDeps): Handler => async (req, res) => {
  const input = codeForm.safeParse(req.body ?? {});
  if (!input.success) return accountPage(deps, req, res, 400, { fieldErrors: { replaceCode: toFieldErrors(input.error.issues).code ?? [] } });
  const result = await deps.identity.authenticators.beginReplacement(await current(deps, res), input.data.code, { ip: req.ip });
  if (result.outcome !== 'ok' || !result.setup) return refusedFresh(deps, req, res, result.outcome === 'locked' ? 'locked' : 'invalid');
  return accountRegisterPage(deps, req, res, 200, result.setup);
};

/** Confirms the pending registration with the new app's first code. */
export const confirmApp = (deps: AccountDeps): Handler => async (req, res) => {
  const account = await current(deps, res);
  const setup = await deps.identity.authenticators.findPendingSetup(account);
  if (!setup) return accountPage(deps, req, res, 409, { message: 'This registration expired. Start again.' });
  const input = codeForm.safeParse(req.body ?? {});
  if (!input.success) return accountRegisterPage(deps, req, res, 400, setup, { fieldErrors: toFieldErrors(input.error.issues) });
  const result = await deps.identity.authenticators.completeRegistration(account, input.data.code, { ip: req.ip, sessionUid: accountSessionOf(res).sessionUid });
  if (result.outcome === 'ok') return done(deps, res, result.replaced ? 'replaced' : 'registered');
  if (result.outcome === 'expired') return accountPage(deps, req, res, 409, { message: 'This registration expired. Start again.' });
  return accountRegisterPage(deps, req, res, 401, setup, { message: 'That code does not match. Make sure the app shows this account, then enter its current code.' });
};

/** Removes the app after a fresh code from it. */
export const removeApp = (deps: AccountDeps): Handler => async (req, res) => {
  const input = codeForm.safeParse(req.body ?? {});
  if (!input.success) return accountPage(deps, req, res, 400, { fieldErrors: { removeCode: toFieldErrors(input.error.issues).code ?? [] } });
  const result = await deps.identity.authenticators.removeApp(await current(deps, res), input.data.code, { ip: req.ip, sessionUid: accountSessionOf(res).sessionUid });
  return result.outcome === 'ok' ? done(deps, res, 'removed') : refusedFresh(deps, req, res, result.outcome);
};

/** Saves the default second factor. */
export const chooseFactor = (deps: AccountDeps): Handler => async (req, res) => {
  const input = factorForm.safeParse(req.body ?? {});
  if (!input.success) return accountPage(deps, req, res, 400, { fieldErrors: toFieldErrors(input.error.issues) });
  try {
    await deps.identity.authenticators.setPreferredFactor(await current(deps, res), input.data.factor, { ip: req.ip });
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'validation_failed')) throw error;
    return accountPage(deps, req, res, 400, { message: error.message, fieldErrors: error.fieldErrors });
  }
  done(deps, res, 'factor');
};

/** Changes the password (current password required; the password policy of password reset). */
export const changePassword = (deps: AccountDeps): Handler => async (req, res) => {
  const input = passwordForm.safeParse(req.body ?? {});
  if (!input.success) return accountPage(deps, req, res, 400, { fieldErrors: toFieldErrors(input.error.issues) });
  try {
    await deps.identity.changePassword(accountSessionOf(res).accountId, input.data, { ip: req.ip, sessionUid: accountSessionOf(res).sessionUid });
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'validation_failed')) throw error;
    return accountPage(deps, req, res, 400, { message: error.message, fieldErrors: error.fieldErrors });
  }
  done(deps, res, 'password');
};
