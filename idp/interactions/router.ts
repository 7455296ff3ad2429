/**
 * The interaction routes. Every route loads its interaction first (a stale one restarts the sign-in);
 * every POST then needs the CSRF token bound to that interaction and a body of at most 10 kB
 * (so a 1 MB password is refused with 413 before any hashing). The password and code steps are counted
 * against the sign-in rate limits first (throttle.ts: 429 with `Retry-After` past them).
 *
 *   GET  /interaction/:uid                      the current step's page
 *   GET  /interaction/:uid/…                    redirects to the step page
 *   POST /interaction/:uid/<factor route>       each factor's routes (factor-pages.ts), e.g.
 *        /password                              sign-in: user ID or email + password
 *        /email-otp, /email-otp/resend          one-time code, new one-time code
 *        /app-code, /app-code/email-instead     code from the authenticator app (RFC 6238), "Email me a code instead"
 *        /register/confirm                      the app registration's first code
 *   POST /interaction/:uid/register[/skip]      registration prompt (campaign or offer): "Register device" / "Skip this step"
 *   POST /interaction/:uid/organization         acting organization
 *   POST /interaction/:uid/consent              Allow / Cancel (clients that are not first-party)
 */
import { Router } from 'express';
import { submitConsent } from './consent.js';
import { skipRegistration, startRegistration } from './registration.js';
import { stepUrls } from '../interaction-urls.js';
import type { InteractionDeps, StepHandler } from './context.js';
import { FACTOR_PAGES } from './factor-pages.js';
import { loadInteraction } from './load.js';
import { chooseOrganization } from './organization.js';
import { showInteraction } from './show.js';
import { formBody } from '../form-body.js';
import { throttleAttempts } from './throttle.js';

/** Creates the router, to mount at the IdP's base path. `factorPages`: default every factor's (factor-pages.ts). */
export function interactionRouter(base: Omit<InteractionDeps, 'factorPages'> & { factorPages?: readonly InteractionDeps['factorPages'][number][] }): Router {
  const deps: InteractionDeps = { ...base, factorPages: base.factorPages ?? FACTOR_PAGES };
  const router = Router();
  const load = loadInteraction(deps.provider, deps.restartUrl);
  const form = formBody();
  const post = (path: string, handler: StepHandler) => router.post(`/interaction/:uid${path}`, form, load, deps.csrf.verify, handler);
  const throttle = throttleAttempts(deps);
  const attempt = (path: string, handler: StepHandler) => router.post(`/interaction/:uid${path}`, form, load, deps.csrf.verify, throttle, handler);

  router.get('/interaction/:uid', load, showInteraction(deps));
  // A bookmarked form URL (e.g. …/password) opens the step page, which restarts when stale.
  router.get('/interaction/:uid/*rest', (req, res) => res.redirect(303, stepUrls(deps.basePath, String(req.params.uid), req.query.client_id).show));
  for (const pages of deps.factorPages) {
    for (const route of pages.routes) (route.attempt ? attempt : post)(route.path, route.handler(deps));
  }
  post('/register', startRegistration(deps));
  post('/register/skip', skipRegistration(deps));
  post('/organization', chooseOrganization(deps));
  post('/consent', submitConsent(deps));
  return router;
}
