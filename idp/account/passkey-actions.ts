/**
 * The passkey handlers of `/account` (identity/factors/passkey). Registering is two posts, so it works with the
 * strict CSP and no inline script:
 *
 *   POST /account/passkeys/register  name → the ceremony page (options in a data attribute; the static module
 *                                    /assets/passkey-registration.js calls navigator.credentials.create through
 *                                    @simplewebauthn/browser and posts the answer)       (recent sign-in)
 *   POST /account/passkeys/complete  name + response (RegistrationResponseJSON) → verified and stored
 *   POST /account/passkeys/remove    passkeyId → removed                                  (recent sign-in)
 *
 * Mistakes re-render with a message and field errors (400/401/404/409), never a 500.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { PASSKEY_NAME_MAX_LENGTH, type PasskeyRegistrationOutcome } from '../../identity/index.js';
import { toFieldErrors } from '../../lib/index.js';
import { formText } from '../form-fields.js';
import { accountPage, passkeyRegisterPage, type AccountDeps } from './account-pages.js';
import { accountSessionOf } from './account-session.js';

type Handler = (req: Request, res: Response) => Promise<void>;

const NAME_SENTENCE = 'Give the passkey a name, such as the device it is on.';
const passkeyName = formText(NAME_SENTENCE).trim().min(1, NAME_SENTENCE).max(PASSKEY_NAME_MAX_LENGTH, `A passkey name has at most ${PASSKEY_NAME_MAX_LENGTH} characters.`);
const registerForm = z.object({ name: passkeyName });
const completeForm = z.object({ name: passkeyName, response: formText('The passkey did not answer. Start again.').min(2).max(8000) });
const removeForm = z.object({ passkeyId: z.uuid({ error: 'Choose a passkey to remove.' }) });

const REFUSED: Record<Exclude<PasskeyRegistrationOutcome['outcome'], 'ok'>, { status: number; message: string }> = {
  expired: { status: 409, message: 'This passkey registration expired or was already used. Start again.' },
  refused: { status: 400, message: 'The passkey could not be registered: its answer was not valid for this site. Start again.' },
  already_registered: { status: 409, message: 'This passkey is already registered.' },
};

async function current(deps: AccountDeps, res: Response) {
  return (await deps.identity.accounts.findAccount(accountSessionOf(res).accountId))!.account;
}

/** Starts a registration: validates the name, then shows the ceremony page with fresh creation options. */
export const registerPasskey = (deps: AccountDeps): Handler => async (req, res) => {
  const input = registerForm.safeParse(req.body ?? {});
  if (!input.success) return accountPage(deps, req, res, 400, { fieldErrors: { passkeyName: toFieldErrors(input.error.issues).name ?? [] } });
  const options = await deps.identity.passkeys.beginRegistration(await current(deps, res), accountSessionOf(res).sessionUid);
  return passkeyRegisterPage(deps, req, res, 200, { name: input.data.name, optionsJson: JSON.stringify(options) });
};

/** Verifies the browser's answer against the session's challenge and stores the passkey. */
export const completePasskey = (deps: AccountDeps): Handler => async (req, res) => {
  const input = completeForm.safeParse(req.body ?? {});
  if (!input.success) {
    const errors = toFieldErrors(input.error.issues);
    return accountPage(deps, req, res, 400, { message: errors.response?.[0] ?? errors.name?.[0] ?? NAME_SENTENCE });
  }
  let response: unknown;
  try {
    response = JSON.parse(input.data.response);
  } catch {
    return accountPage(deps, req, res, 400, { message: REFUSED.refused.message });
  }
  const result = await deps.identity.passkeys.completeRegistration(await current(deps, res), accountSessionOf(res).sessionUid, { name: input.data.name, response }, { ip: req.ip });
  if (result.outcome === 'ok') return res.redirect(303, `${deps.accountPath}?done=passkey_registered#passkeys`);
  return accountPage(deps, req, res, REFUSED[result.outcome].status, { message: REFUSED[result.outcome].message });
};

/** Removes one of the account's passkeys. */
export const removePasskey = (deps: AccountDeps): Handler => async (req, res) => {
  const input = removeForm.safeParse(req.body ?? {});
  if (!input.success) return accountPage(deps, req, res, 400, { message: 'Choose a passkey to remove.' });
  const removed = await deps.identity.passkeys.remove(await current(deps, res), input.data.passkeyId, { ip: req.ip });
  if (!removed) return accountPage(deps, req, res, 404, { message: 'That passkey is not registered to your account (any more).' });
  res.redirect(303, `${deps.accountPath}?done=passkey_removed#passkeys`);
};
