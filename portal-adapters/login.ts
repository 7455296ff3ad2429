/**
 * `GET /auth/login`: starts the authorization code flow with PKCE (OIDC Core §3.1.2.1, RFC 7636 §4.1–4.3).
 * `?returnTo=/path` says where to land afterwards. With `?iss=` it is the client's `initiate_login_uri`
 * (OIDC Core §4): the issuer must be ours, `target_link_uri` must be on our origin, `login_hint` is passed on.
 * With `?acr_values=phr` (what `requireAcr` sends) the IdP is asked for that class of sign-in (OIDC Core §3.1.2.1);
 * a value that is not a list of ACR values is ignored.
 */
import type { RequestHandler } from 'express';
import * as oidc from 'openid-client';
import { writeCookie } from './cookies.js';
import { transactionCookiePath, type PortalContext, type SignInTransaction } from './context.js';
import { sendProblem } from './pages.js';
import { acrValuesOf } from './require-acr.js';
import { returnToFromTarget, safeReturnTo } from './return-to.js';

export function loginHandler(ctx: PortalContext): RequestHandler {
  const { options, config } = ctx;
  return async (req, res) => {
    const { iss, target_link_uri: target, login_hint: loginHint, returnTo, acr_values: acrValues } = req.query;
    if (iss !== undefined && iss !== config.serverMetadata().issuer) {
      sendProblem(req, res, 400, 'invalid_request', {
        title: 'Sign-in not started',
        message: 'The sign-in request names an identity provider this application does not use.',
        link: { href: `${options.basePath}/`, label: 'Home' },
      });
      return;
    }
    const tx: SignInTransaction = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo: iss !== undefined ? returnToFromTarget(target, options.baseUrl) : safeReturnTo(returnTo, options.basePath),
      ...(typeof acrValues === 'string' ? checkedAcrValues(acrValues) : {}),
    };
    const parameters: Record<string, string> = {
      redirect_uri: options.redirectUri,
      scope: options.scope,
      state: tx.state,
      nonce: tx.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(tx.codeVerifier),
      code_challenge_method: 'S256',
    };
    if (typeof loginHint === 'string' && loginHint.length <= 256) parameters.login_hint = loginHint;
    if (tx.acrValues) parameters.acr_values = tx.acrValues;
    const cookie = { secure: options.secureCookies, path: transactionCookiePath(options) };
    writeCookie(res, ctx.transactionCookie, await ctx.transactions.seal(tx, options.transactionTtlSeconds), {
      ...cookie,
      ttlSeconds: options.transactionTtlSeconds,
    });
    res.set('Cache-Control', 'no-store').redirect(303, oidc.buildAuthorizationUrl(config, parameters).href);
  };
}

/** `{ acrValues }` when `raw` is a valid `acr_values` list, else nothing. */
function checkedAcrValues(raw: string): { acrValues?: string } {
  try {
    return { acrValues: acrValuesOf(raw.split(' ')) };
  } catch {
    return {};
  }
}
