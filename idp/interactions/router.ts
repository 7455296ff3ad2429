/**
 * The interaction routes. Every route loads its interaction first (a stale one restarts the sign-in);
 * every POST then needs the CSRF token bound to that interaction and a body of at most 10 kB
 * (so a 1 MB password is refused with 413 before any hashing). The password and code steps are counted
 * against the sign-in rate limits first (throttle.ts: 429 with `Retry-After` past them).
 *
 *   GET  /interaction/:uid                      the current step's page
 *   GET  /interaction/:uid/…                    redirects to the step page
 *   POST /interaction/:uid/password             sign-in: user ID or email + password
 *   POST /interaction/:uid/email-otp            one-time code
 *   POST /interaction/:uid/email-otp/resend     new one-time code
 *   POST /interaction/:uid/app-code             code from the authenticator app (RFC 6238)
 *   POST /interaction/:uid/app-code/email-instead  "Email me a code instead"
 *   POST /interaction/:uid/register[/confirm|/skip]  authenticator registration prompt (campaign or offer)
 *   POST /interaction/:uid/organization         acting organization
 *   POST /interaction/:uid/consent              Allow / Cancel (clients that are not first-party)
 */
import { Router } from 'express';
import { emailInstead, submitAppCode } from './app-code.js';
import { submitConsent } from './consent.js';
import { confirmRegistration, skipRegistration, startRegistration } from './registration.js';
import { stepUrls } from '../interaction-urls.js';
import type { InteractionDeps, StepHandler } from './context.js';
import { submitEmailOtp } from './email-otp.js';
import { loadInteraction } from './load.js';
import { chooseOrganization } from './organization.js';
import { submitPassword } from './password.js';
import { resendCode } from './resend-code.js';
import { showInteraction } from './show.js';
import { formBody } from '../form-body.js';
import { throttleAttempts } from './throttle.js';

/** Creates the router, to mount at the IdP's base path. */
export function interactionRouter(deps: InteractionDeps): Router {
  const router = Router();
  const load = loadInteraction(deps.provider, deps.restartUrl);
  const form = formBody();
  const post = (path: string, handler: StepHandler) => router.post(`/interaction/:uid${path}`, form, load, deps.csrf.verify, handler);
  const throttle = throttleAttempts(deps);
  const attempt = (path: string, handler: StepHandler) => router.post(`/interaction/:uid${path}`, form, load, deps.csrf.verify, throttle, handler);

  router.get('/interaction/:uid', load, showInteraction(deps));
  // A bookmarked form URL (e.g. …/password) opens the step page, which restarts when stale.
  router.get('/interaction/:uid/*rest', (req, res) => res.redirect(303, stepUrls(deps.basePath, String(req.params.uid), req.query.client_id).show));
  attempt('/password', submitPassword(deps));
  attempt('/email-otp', submitEmailOtp(deps));
  post('/email-otp/resend', resendCode(deps));
  attempt('/app-code', submitAppCode(deps));
  post('/app-code/email-instead', emailInstead(deps));
  post('/register', startRegistration(deps));
  post('/register/confirm', confirmRegistration(deps));
  post('/register/skip', skipRegistration(deps));
  post('/organization', chooseOrganization(deps));
  post('/consent', submitConsent(deps));
  return router;
}
