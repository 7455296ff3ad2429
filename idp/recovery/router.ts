/**
 * The password recovery pages. They belong to no sign-in (interaction): a person may arrive from the sign-in
 * page's "Forgot password?" link or from an email hours later. Every POST needs a CSRF token (signed
 * double-submit cookie scoped to `/password`) and a body of at most 10 kB.
 *
 *   GET  /password/forgot           form: user ID or email, registered mobile phone
 *   POST /password/forgot           the same "if the details match, we have sent an email" page for everyone
 *   GET  /password/reset/:token     new-password form (never consumes the link), or "no longer valid"
 *   POST /password/reset/:token     sets the password, consuming the link; or field errors; or "no longer valid"
 *   GET/POST /password/set/:token   the same for a new account's set-password link ("Set your password")
 */
import { Router } from 'express';
import cookieParser from 'cookie-parser';
import type { Identity } from '../../identity/index.js';
import type { Config } from '../../lib/index.js';
import { createCsrf } from '../csrf.js';
import { formBody } from '../form-body.js';
import type { RenderPage } from '../views.js';
import type { RecoveryPageDeps } from './context.js';
import { showForgotForm, submitForgotForm } from './forgot.js';
import { showResetForm, submitResetForm } from './reset.js';

/** Creates the router, to mount at the IdP's base path before the error page. */
export function recoveryRouter(input: { identity: Identity; render: RenderPage; config: Config; basePath: string }): Router {
  const { config, basePath } = input;
  const csrf = createCsrf(config.cookieKeys, config.issuer.startsWith('https:'), () => `${basePath}/password`);
  const deps: RecoveryPageDeps = { identity: input.identity, render: input.render, csrf, issuer: config.issuer, basePath, ttlSeconds: config.recovery.ttlSeconds };
  const form = formBody();
  const router = Router();
  router.use('/password', cookieParser());
  router.get('/password/forgot', showForgotForm(deps));
  router.post('/password/forgot', form, csrf.verify, submitForgotForm(deps));
  router.get('/password/reset/:token', showResetForm(deps));
  router.post('/password/reset/:token', form, csrf.verify, submitResetForm(deps));
  router.get('/password/set/:token', showResetForm(deps));
  router.post('/password/set/:token', form, csrf.verify, submitResetForm(deps));
  return router;
}
