/**
 * The account page of a person signed in at the IdP (its oidc-provider session; see account-session.ts):
 *
 *   GET  /account                  overview: authenticator app, default factor, password, recent sign-ins
 *   POST /account/app/register     register an app (when none): QR page                 (recent sign-in)
 *   POST /account/app/replace      replace the app (fresh code from the current one): QR page (recent sign-in)
 *   POST /account/app/confirm      first code from the new app confirms it
 *   POST /account/app/remove       remove the app (fresh code)                          (recent sign-in)
 *   POST /account/passkeys/register  start registering a passkey (name): ceremony page     (recent sign-in)
 *   POST /account/passkeys/complete  the browser's answer verifies and stores it (passkey-actions.ts)
 *   POST /account/passkeys/remove    remove one passkey                                    (recent sign-in)
 *   GET  /assets/webauthn/*        @simplewebauthn/browser's ES modules, for the passkey page script
 *   POST /account/factor           default second factor (app or email)
 *   POST /account/password         change password (current password required)
 *   GET  /account/signed-in        where a re-authentication returns (reauthentication.ts)
 *
 * Without a session, every route answers 401 with where to sign in. POSTs need the CSRF token and a body of at
 * most 10 kB. "Recent sign-in": at most `reauthenticationMaxAgeSeconds` old, else the person signs in again first.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { formBody } from '../form-body.js';
import type { Identity } from '../../identity/index.js';
import type { Provider } from '../oidc.js';
import type { RenderPage } from '../views.js';
import { changePassword, chooseFactor, confirmApp, registerApp, removeApp, replaceApp } from './account-actions.js';
import { accountPage, DONE_MESSAGES, signedOutPage, type AccountDeps } from './account-pages.js';
import { createAccountCsrf, requireAccountSession } from './account-session.js';
import { completePasskey, registerPasskey, removePasskey } from './passkey-actions.js';
import { reauthenticated, requireRecentSignIn, resumeMessage, type ReauthenticationDeps } from './reauthentication.js';

/** @simplewebauthn/browser's ES module build (its `import` export is esm/index.js; the `require` one is script/). */
const WEBAUTHN_BROWSER_DIR = join(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'esm');

/** What {@link accountRouter} needs. Durations in seconds. */
export interface AccountRouterOptions {
  identity: Identity;
  provider: Provider;
  render: RenderPage;
  /** The IdP's public URL, no trailing slash. */
  issuer: string;
  basePath: string;
  cookieKeys: string[];
  secure: boolean;
  /** The IdP session's absolute lifetime (`SESSION_MAX_AGE_SECONDS`). */
  sessionMaxAgeSeconds: number;
  /** How recent a sign-in must be to change a factor (`REAUTHENTICATION_MAX_AGE_SECONDS`). */
  reauthenticationMaxAgeSeconds: number;
  listApplications?: AccountDeps['listApplications'];
}

/** Creates the router, to mount at the IdP's base path after cookie-parser. */
export function accountRouter(options: AccountRouterOptions): Router {
  const accountPath = `${options.basePath}/account`;
  const csrf = createAccountCsrf(options.cookieKeys, options.secure, accountPath);
  const deps: AccountDeps = { identity: options.identity, render: options.render, csrf, accountPath, listApplications: options.listApplications, reauthenticationMaxAgeSeconds: options.reauthenticationMaxAgeSeconds };
  const reauthentication: ReauthenticationDeps = { issuer: options.issuer, basePath: options.basePath, accountPath, maxAgeSeconds: options.reauthenticationMaxAgeSeconds };
  const signedIn = requireAccountSession(options.provider, options.identity, options.sessionMaxAgeSeconds, (req, res) => signedOutPage(deps, req, res));
  const form = formBody();
  const router = Router();
  const post = (path: string, ...handlers: RequestHandler[]) => router.post(`/account${path}`, form, signedIn, csrf.verify, ...handlers);

  router.get('/account', signedIn, (req, res) => {
    const done = typeof req.query.done === 'string' ? DONE_MESSAGES[req.query.done] : undefined;
    const message = done ?? resumeMessage(req.query.resume);
    return accountPage(deps, req, res, 200, message ? { message, messageKind: 'info' } : {});
  });
  router.get('/account/signed-in', signedIn, reauthenticated(reauthentication));
  router.use('/assets/webauthn', express.static(WEBAUTHN_BROWSER_DIR, { index: false, maxAge: '1h', extensions: false }));
  post('/app/register', requireRecentSignIn(reauthentication, 'register'), registerApp(deps));
  post('/app/replace', requireRecentSignIn(reauthentication, 'replace'), replaceApp(deps));
  post('/app/confirm', confirmApp(deps));
  post('/app/remove', requireRecentSignIn(reauthentication, 'remove'), removeApp(deps));
  post('/passkeys/register', requireRecentSignIn(reauthentication, 'passkey_register'), registerPasskey(deps));
  post('/passkeys/complete', completePasskey(deps));
  post('/passkeys/remove', requireRecentSignIn(reauthentication, 'passkey_remove'), removePasskey(deps));
  post('/factor', chooseFactor(deps));
  post('/password', changePassword(deps));
  return router;
}
