/**
 * The account page of a person signed in at the IdP (its oidc-provider session; see account-session.ts):
 *
 *   GET  /account                  overview: authenticator app, default factor, password, recent sign-ins
 *   POST /account/app/register     register an app (when none): QR page
 *   POST /account/app/replace      replace the app (fresh code from the current one): QR page
 *   POST /account/app/confirm      first code from the new app confirms it
 *   POST /account/app/remove       remove the app (fresh code)
 *   POST /account/factor           default second factor (app or email)
 *   POST /account/password         change password (current password required)
 *
 * Without a session, every route answers 401 with where to sign in. POSTs need the CSRF token and a body of at
 * most 10 kB.
 */
import { formBody } from '../form-body.js';
import { Router, type Request, type Response } from 'express';
import type { Identity } from '../../identity/index.js';
import type { Provider } from '../oidc.js';
import type { RenderPage } from '../views.js';
import { changePassword, chooseFactor, confirmApp, registerApp, removeApp, replaceApp } from './account-actions.js';
import { accountPage, DONE_MESSAGES, signedOutPage, type AccountDeps } from './account-pages.js';
import { createAccountCsrf, requireAccountSession } from './account-session.js';

/** Creates the router, to mount at the IdP's base path after cookie-parser. */
export function accountRouter(options: { identity: Identity; provider: Provider; render: RenderPage; basePath: string; cookieKeys: string[]; secure: boolean; listApplications?: AccountDeps['listApplications'] }): Router {
  const accountPath = `${options.basePath}/account`;
  const csrf = createAccountCsrf(options.cookieKeys, options.secure, accountPath);
  const deps: AccountDeps = { identity: options.identity, render: options.render, csrf, accountPath, listApplications: options.listApplications };
  const signedIn = requireAccountSession(options.provider, options.identity, (req, res) => signedOutPage(deps, req, res));
  const form = formBody();
  const router = Router();
  const post = (path: string, handler: (req: Request, res: Response) => Promise<void>) => router.post(`/account${path}`, form, signedIn, csrf.verify, handler);

  router.get('/account', signedIn, (req, res) => {
    const message = typeof req.query.done === 'string' ? DONE_MESSAGES[req.query.done] : undefined;
    return accountPage(deps, req, res, 200, message ? { message, messageKind: 'info' } : {});
  });
  post('/app/register', registerApp(deps));
  post('/app/replace', replaceApp(deps));
  post('/app/confirm', confirmApp(deps));
  post('/app/remove', removeApp(deps));
  post('/factor', chooseFactor(deps));
  post('/password', changePassword(deps));
  return router;
}
