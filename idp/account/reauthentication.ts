/**
 * Recent authentication before a change to an authentication factor (ASVS 5.0 V7.5.1): registering, replacing
 * or removing the authenticator app, and registering or removing a passkey, needs a sign-in (password and second factor) at most `maxAgeSeconds` old
 * (`REAUTHENTICATION_MAX_AGE_SECONDS`, default 300). An older sign-in is sent through the IdP with `prompt=login`
 * (OIDC Core §3.1.2.1) as the account page's client (account-client.ts) and comes back to the account page, at
 * the form it was using, with a note that it may go on.
 *
 * Changing the password needs the current password instead. The account page has no email change: email
 * addresses change through a delegated administrator's change request.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ACCOUNT_CLIENT_ID, SIGNED_IN_PATH } from './account-client.js';
import { accountSessionOf, type AccountSession } from './account-session.js';

/** The changes that need a recent sign-in, and the sentence shown when the person comes back. */
export const REAUTHENTICATED_ACTIONS = {
  register: 'You signed in again. You can now register your authenticator app.',
  replace: 'You signed in again. Enter the current code from your app to replace it.',
  remove: 'You signed in again. Enter the current code from your app to remove it.',
  passkey_register: 'You signed in again. You can now register a passkey.',
  passkey_remove: 'You signed in again. You can now remove the passkey.',
} as const;

/** The section of the account page each action returns to. */
const SECTION_OF: Record<ReauthenticatedAction, string> = { register: 'app', replace: 'app', remove: 'app', passkey_register: 'passkeys', passkey_remove: 'passkeys' };

/** One of {@link REAUTHENTICATED_ACTIONS}. */
export type ReauthenticatedAction = keyof typeof REAUTHENTICATED_ACTIONS;

/** What the re-authentication needs. */
export interface ReauthenticationDeps {
  /** The IdP's public URL, no trailing slash (redirect URI of the account page's client). */
  issuer: string;
  /** The IdP's base path (the authorization endpoint is `${basePath}/auth`). */
  basePath: string;
  /** `${basePath}/account` */
  accountPath: string;
  /** Largest age of the sign-in that may change a factor, in seconds. */
  maxAgeSeconds: number;
}

const isAction = (value: unknown): value is ReauthenticatedAction => typeof value === 'string' && Object.hasOwn(REAUTHENTICATED_ACTIONS, value);

/** True when the session's sign-in is at most `maxAgeSeconds` old. */
export function isRecentSignIn(session: AccountSession, maxAgeSeconds: number): boolean {
  return Math.floor(Date.now() / 1000) - session.loginTs <= maxAgeSeconds;
}

/**
 * The authorization request that asks for the sign-in pages again and returns to {@link SIGNED_IN_PATH}. `state`
 * names the action to resume. The PKCE verifier is discarded on purpose: the code is never redeemed.
 */
export function reauthenticationUrl(deps: ReauthenticationDeps, action: ReauthenticatedAction): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const params = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID, redirect_uri: `${deps.issuer}${SIGNED_IN_PATH}`, response_type: 'code', scope: 'openid',
    prompt: 'login', code_challenge: challenge, code_challenge_method: 'S256', state: action,
  });
  return `${deps.basePath}/auth?${params}`;
}

/** Middleware after the session and CSRF checks: continues when the sign-in is recent, else 303 to the sign-in pages. */
export function requireRecentSignIn(deps: ReauthenticationDeps, action: ReauthenticatedAction) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (isRecentSignIn(accountSessionOf(res), deps.maxAgeSeconds)) return next();
    res.redirect(303, reauthenticationUrl(deps, action));
  };
}

/**
 * GET /account/signed-in — the end of the re-authentication: back to the account page at the form of the action
 * in `state`, with its sentence when the sign-in is now recent (a forged or cancelled return shows the page only).
 */
export function reauthenticated(deps: ReauthenticationDeps) {
  return (req: Request, res: Response): void => {
    const action = req.query.state;
    const resumed = isAction(action) && typeof req.query.error !== 'string' && isRecentSignIn(accountSessionOf(res), deps.maxAgeSeconds);
    res.redirect(303, resumed ? `${deps.accountPath}?resume=${action}#${SECTION_OF[action]}` : deps.accountPath);
  };
}

/** The sentence for `?resume=` on the account page, or undefined. */
export function resumeMessage(value: unknown): string | undefined {
  return isAction(value) ? REAUTHENTICATED_ACTIONS[value] : undefined;
}
