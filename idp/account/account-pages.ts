/**
 * The pages of `/account`: the overview (authenticator app, passkeys, default factor, password, recent sign-ins),
 * the app and passkey registration pages, and the "signed out" page. Plain view models; messages come from fixed texts.
 */
import type { Request, Response } from 'express';
import { describeDuration, type AuthenticatorSetup, type Identity } from '../../identity/index.js';
import { sendPage } from '../interactions/context.js';
import { setupModel } from '../interactions/factor-pages.js';
import type { RenderPage } from '../views.js';
import { accountSessionOf } from './account-session.js';

/** What the account handlers share. */
export interface AccountDeps {
  identity: Identity;
  render: RenderPage;
  csrf: { token(req: Request, res: Response): string };
  /** `${basePath}/account` */
  accountPath: string;
  listApplications?: () => Promise<{ name: string; initiateLoginUri: string }[]>;
  /** How recent a sign-in must be to change the authenticator app, in seconds (shown on the page). */
  reauthenticationMaxAgeSeconds: number;
}

/** Confirmations shown after a change (`?done=`). */
export const DONE_MESSAGES: Record<string, string> = {
  registered: 'Your authenticator app is registered. Sign-in now asks for its code.',
  replaced: 'Your new authenticator app is registered. Codes from the previous app no longer work.',
  removed: 'Your authenticator app was removed. Sign-in now emails you a code.',
  factor: 'Your default sign-in factor was saved.',
  password: 'Your password was changed.',
  passkey_registered: 'Your passkey is registered.',
  passkey_removed: 'Your passkey was removed. It can no longer be used to sign in.',
};

const SIGN_IN_EVENTS = new Set(['account.signed_in', 'account.sign_in_failed']);
const when = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** Form state for re-rendering after an error. */
export type AccountFormModel = { message?: string; messageKind?: 'error' | 'info'; fieldErrors?: Record<string, string[]> };

/** The overview. */
export async function accountPage(deps: AccountDeps, req: Request, res: Response, status: number, model: AccountFormModel = {}): Promise<void> {
  const { identity } = deps;
  const { accountId } = accountSessionOf(res);
  const view = (await identity.accounts.findAccount(accountId))!;
  const app = await identity.stores.authenticators.findConfirmed(accountId);
  const passkeys = (await identity.passkeys.list(accountId)).map((p) => ({ id: p.id, name: p.name, since: when(p.createdAt), lastUsed: p.lastUsedAt ? when(p.lastUsedAt) : 'not used yet' }));
  const events = (await identity.stores.audit.list({ accountId, limit: 50 })).filter((e) => SIGN_IN_EVENTS.has(e.type)).slice(0, 10);
  const signIns = events.map((e) => ({ when: when(e.occurredAt), outcome: e.type === 'account.signed_in' ? `Signed in (${((e.data.amr as string[] | undefined) ?? []).join(', ')})` : `Failed: ${String(e.data.reason ?? 'unknown')}`, ip: e.ip ?? '' }));
  await sendPage(res, deps.render, status, 'account', {
    title: 'Your account', name: view.account.name, userId: view.account.userId, email: view.account.email,
    app: app ? { since: when(app.confirmedAt ?? app.createdAt) } : null, passkeys,
    preferredFactor: await identity.authenticators.signInFactor(accountId), emailFallback: identity.authenticatorPolicy.emailFallback,
    signIns, accountPath: deps.accountPath, csrfToken: deps.csrf.token(req, res), reauthenticationAfter: describeDuration(deps.reauthenticationMaxAgeSeconds), ...model,
  });
}

/** The registration page of the account page (QR code, key, mobile link, first code). */
export async function accountRegisterPage(deps: AccountDeps, req: Request, res: Response, status: number, setup: AuthenticatorSetup, model: AccountFormModel = {}): Promise<void> {
  await sendPage(res, deps.render, status, 'account-register', { title: 'Register a device', ...(await setupModel(setup)), accountPath: deps.accountPath, csrfToken: deps.csrf.token(req, res), ...model });
}

/**
 * The passkey ceremony page: the creation options (WebAuthn §5.4, JSON) in a data attribute for the static page
 * script, and the form it posts the answer with.
 */
export async function passkeyRegisterPage(deps: AccountDeps, req: Request, res: Response, status: number, model: { name: string; optionsJson: string }): Promise<void> {
  await sendPage(res, deps.render, status, 'account-passkey', { title: 'Register a passkey', ...model, accountPath: deps.accountPath, csrfToken: deps.csrf.token(req, res) });
}

/** Not signed in: where to sign in. */
export async function signedOutPage(deps: AccountDeps, _req: Request, res: Response): Promise<void> {
  const applications = (await deps.listApplications?.().catch(() => [])) ?? [];
  await sendPage(res, deps.render, 401, 'account-signed-out', { title: 'Sign in to see your account', applications });
}
