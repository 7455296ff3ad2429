/**
 * `requireAcr(...values)`: lets a request through only when the person's sign-in reached one of the given
 * Authentication Context Class References (the ID token's `acr`, OIDC Core §2), e.g. `phr`, a phishing-resistant
 * sign-in (OpenID EAP ACR Values 1.0 §2; connect-iam gives it to sign-ins with a passkey).
 *
 * - A session whose `acr` is not one of them is sent through sign-in again with `acr_values` (OIDC Core
 *   §3.1.2.1): a GET or HEAD is redirected to `/auth/login?acr_values=…&returnTo=<this URL>`; the IdP asks for the
 *   stronger factor and the person comes back here. Other methods get 401 JSON
 *   `{ error: 'insufficient_user_authentication', acr_values }`.
 * - A signed-out request is treated as by `requireAuth` (sign-in, with `acr_values` for GET/HEAD).
 * - After `verifyBearer` on the same route it decides on the access token's `acr` claim instead: 401 with
 *   `WWW-Authenticate: Bearer error="insufficient_user_authentication", acr_values="…"` (RFC 9470 §3, step-up
 *   challenge; `DPoP` for a bound token), never a redirect.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { PortalContext } from './context.js';
import type { PortalSession } from './session.js';
import { verifiedAccessToken } from './verify-bearer.js';

/** The `acr` of a phishing-resistant sign-in (OpenID EAP ACR Values 1.0 §2), what connect-iam gives a passkey sign-in. */
export const PHISHING_RESISTANT_ACR = 'phr';

/** An ACR value as `acr_values` may carry it (a space-separated list, so no spaces; printable ASCII). */
const ACR_VALUE = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

/**
 * The `acr_values` to send, checked: 1 to 8 values, each printable ASCII without space, quote or backslash.
 * @throws TypeError otherwise (when the middleware is created).
 */
export function acrValuesOf(values: readonly string[]): string {
  if (values.length === 0 || values.length > 8 || !values.every((v) => ACR_VALUE.test(v))) {
    throw new TypeError('requireAcr needs 1 to 8 ACR values, each printable ASCII without spaces, quotes or backslashes');
  }
  return values.join(' ');
}

/** True when `session`'s sign-in reached one of `values` (its ID token's `acr`). */
export function sessionMeetsAcr(session: PortalSession, values: readonly string[]): boolean {
  return typeof session.acr === 'string' && values.includes(session.acr);
}

function toSignIn(ctx: PortalContext, req: Request, res: Response, acrValues: string): void {
  res.set('Cache-Control', 'no-store');
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.redirect(303, `${ctx.options.basePath}/auth/login?acr_values=${encodeURIComponent(acrValues)}&returnTo=${encodeURIComponent(req.originalUrl)}`);
  } else {
    res.status(401).json({ error: 'insufficient_user_authentication', message: 'Sign in again with a stronger method.', acr_values: acrValues });
  }
}

export function requireAcrMiddleware(ctx: PortalContext, values: readonly string[]): RequestHandler {
  const acrValues = acrValuesOf(values);
  return async (req, res, next) => {
    const claims = verifiedAccessToken(ctx, req);
    if (claims) {
      if (typeof claims.acr === 'string' && values.includes(claims.acr)) return next();
      res.set('WWW-Authenticate', `${claims.cnf ? 'DPoP' : 'Bearer'} error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="${acrValues}"`);
      res.set('Cache-Control', 'no-store').status(401).json({ error: 'insufficient_user_authentication', acr_values: acrValues });
      return;
    }
    const session = await ctx.getSession(req);
    if (session && sessionMeetsAcr(session, values)) {
      res.locals.session = session;
      return next();
    }
    toSignIn(ctx, req, res, acrValues);
  };
}
