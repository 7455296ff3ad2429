/**
 * `createPortalAuth`: OpenID Connect sign-in, session and access checks for an Express application,
 * as one value built from the issuer's discovery document.
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import * as oidc from 'openid-client';
import { backChannelLogoutRoute } from './backchannel-logout.js';
import { callbackHandler } from './callback.js';
import { formBody } from './form-body.js';
import { sessionReader, type PortalContext, type SignInTransaction } from './context.js';
import { requireAuthMiddleware, requireFunctionMiddleware } from './guards.js';
import { requireAcrMiddleware } from './require-acr.js';
import { loginHandler } from './login.js';
import { logoutHandler } from './logout.js';
import { createMemoryLogoutStore } from './logout-store.js';
import { resolveOptions, type PortalAuthOptions } from './options.js';
import { createMemoryReplayStore } from './replay-store.js';
import { createSealer } from './sealed-cookie.js';
import { createSessionCodec, type PortalSession } from './session.js';
import { verifyBearerMiddleware, type VerifyBearerOptions } from './verify-bearer.js';

/** What `createPortalAuth` returns. */
export interface PortalAuth {
  /**
   * Mount at the application's root. Routes: `GET /auth/login?returnTo=/path` (also the client's
   * `initiate_login_uri`, OIDC Core §4), `GET /auth/callback` (the redirect URI), `POST /auth/logout`
   * (form field `_csrf` = `session.csrfToken`), `POST /auth/backchannel-logout` (the `backchannel_logout_uri`,
   * OIDC Back-Channel Logout 1.0: form field `logout_token`; 200, or 400 `invalid_request` — also for a replayed
   * token — or 413 for a body over 16 KiB).
   */
  router: Router;
  /**
   * Lets signed-in requests through with `res.locals.session` set. Signed out: GET/HEAD are redirected to
   * `/auth/login?returnTo=<original URL>`, other methods get 401 `{ error: 'unauthenticated' }`.
   */
  requireAuth(): RequestHandler;
  /**
   * Lets a signed-in request through when its session holds at least one of `names` (policies'
   * `evaluateFunctions`, deny by default: an unknown or empty list always denies). Signed out: as
   * `requireAuth`. Denied: the `onDenied` option, or 403 with the policy's message as a page, or as
   * `{ error: 'forbidden', message, reason }` for `Accept: application/json`.
   * After this adapter's `verifyBearer` on the same route, it decides on the verified access token's `functions`
   * claim instead of a session (a person's portal API token with the `organization` scope, or a service client's
   * `client_credentials` token): denied, `onDenied` or 403 JSON `{ error: 'forbidden', message, reason }` with
   * `WWW-Authenticate: Bearer error="insufficient_scope"` (`DPoP` for a bound token); never a redirect.
   */
  requireFunction(...names: string[]): RequestHandler;
  /**
   * Lets a request through when the person's sign-in reached one of the Authentication Context Class References
   * `values` (the ID token's `acr`, OIDC Core §2), e.g. `requireAcr('phr')`: a sign-in with a passkey at
   * connect-iam. Otherwise GET/HEAD are sent through sign-in again with `acr_values` (OIDC Core §3.1.2.1) and come
   * back; other methods get 401 `{ error: 'insufficient_user_authentication', acr_values }`. If the IdP still gives
   * another `acr` (the person has no passkey), the callback answers 403 with a page saying why, not a loop. After
   * `verifyBearer` it decides on the access token's `acr`: 401 with `WWW-Authenticate: Bearer
   * error="insufficient_user_authentication", acr_values="…"` (RFC 9470 §3).
   * @throws TypeError at creation when `values` is empty, has more than 8 values, or one is not printable ASCII without spaces.
   */
  requireAcr(...values: string[]): RequestHandler;
  /** The session of this request, or null when signed out, expired or tampered with. Cached per request. */
  getSession(req: Request): Promise<PortalSession | null>;
  /**
   * Requires `Authorization: Bearer <JWT access token>` (RFC 6750, RFC 9068) signed by the issuer's JWKS,
   * with `typ` `at+jwt`, this issuer, `audience` and an unexpired `exp`; the claims go to
   * `res.locals.accessToken`. Failure: 401 with `WWW-Authenticate: Bearer error="invalid_token"` (no
   * `error` when the header is missing); 503 when the keys or the replay store cannot be reached.
   * A DPoP-bound token (`cnf.jkt`) is accepted only as `Authorization: DPoP <token>` with a valid `DPoP` proof
   * for this request (RFC 9449 §4.3, §7; its `htu` is `baseUrl` + the request path); otherwise 401 with
   * `WWW-Authenticate: DPoP error="invalid_dpop_proof"` or `error="invalid_token"`, `error_description` and
   * `algs`. An unbound token sent with the DPoP scheme is refused the same way. No DPoP nonces (§9).
   * @throws TypeError at creation when `audience` is empty, the issuer publishes no `jwks_uri`, or a DPoP
   *   option is invalid.
   */
  verifyBearer(options: VerifyBearerOptions): RequestHandler;
}

/**
 * Discovers the issuer (OIDC Discovery 1.0) and returns the sign-in router and guards of a relying party
 * using the authorization code flow with PKCE S256 (OIDC Core §3.1, RFC 7636), `client_secret_basic`,
 * an encrypted session cookie, RP-initiated logout (OIDC RP-Initiated Logout 1.0) and back-channel logout
 * (OIDC Back-Channel Logout 1.0).
 *
 * @example
 * ```ts
 * const auth = await createPortalAuth({ issuer, clientId, clientSecret, baseUrl: 'http://localhost:3001', cookieSecret });
 * app.use(auth.router);
 * app.get('/', auth.requireAuth(), (req, res) => res.send(`Hello ${res.locals.session.name}`));
 * app.get('/users', auth.requireFunction('EU_UserMaintenance'), listUsers);
 * app.post('/functions/grant', auth.requireAcr('phr'), auth.requireFunction('EU_UserMaintenance'), grantFunction);
 * app.get('/api/me', auth.verifyBearer({ audience: 'urn:example:api' }), (req, res) => res.json(res.locals.accessToken));
 * app.get('/api/files', auth.verifyBearer({ audience: 'urn:example:api' }), auth.requireFunction('EU_ECPSFTP'), listFiles);
 * ```
 * @throws TypeError for invalid options; openid-client's errors when discovery fails (network, HTTP status,
 *   issuer mismatch, or an `http:` issuer without `allowInsecureRequests`).
 */
export async function createPortalAuth(input: PortalAuthOptions): Promise<PortalAuth> {
  const options = resolveOptions(input);
  const config = await oidc.discovery(
    new URL(options.issuer),
    options.clientId,
    options.clientSecret,
    oidc.ClientSecretBasic(options.clientSecret),
    { execute: options.allowInsecureRequests ? [oidc.allowInsecureRequests] : [] },
  );
  const sessions = createSessionCodec(options);
  const logouts = input.logoutStore ?? createMemoryLogoutStore();
  const ctx: PortalContext = {
    options,
    config,
    sessions,
    transactions: createSealer<SignInTransaction>(options.cookieSecret, `transaction:${options.clientId}`, (v) => typeof v.state === 'string'),
    transactionCookie: `${options.cookieName}_tx`,
    logouts,
    replays: input.replayStore ?? createMemoryReplayStore(),
    getSession: sessionReader(options.cookieName, sessions, logouts, options.clientId),
  };
  const router = express.Router();
  router.get('/auth/login', loginHandler(ctx));
  router.get('/auth/callback', callbackHandler(ctx));
  router.post('/auth/logout', formBody({ limit: '4kb', parameterLimit: 10 }), logoutHandler(ctx));
  router.post('/auth/backchannel-logout', ...backChannelLogoutRoute(ctx));
  return {
    router,
    requireAuth: () => requireAuthMiddleware(ctx),
    requireFunction: (...names) => requireFunctionMiddleware(ctx, names),
    requireAcr: (...values) => requireAcrMiddleware(ctx, values),
    getSession: ctx.getSession,
    verifyBearer: (bearerOptions) => verifyBearerMiddleware(ctx, bearerOptions),
  };
}
