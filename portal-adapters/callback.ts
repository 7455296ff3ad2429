/**
 * `GET /auth/callback`: the redirect URI. Completes the authorization code grant with the PKCE verifier,
 * expected state and nonce (OIDC Core §3.1.2.5–3.1.3.7, RFC 7636 §4.5); openid-client validates the ID token.
 * On success the session cookie is set and the person returns to where they were going; on failure they get
 * a clear page with a way to sign in again, and the cause goes to the logger only.
 */
import type { Request, RequestHandler, Response } from 'express';
import * as oidc from 'openid-client';
import { clearCookie, readCookie, writeCookie } from './cookies.js';
import { sessionCookiePath, transactionCookiePath, type PortalContext } from './context.js';
import { sendProblem } from './pages.js';
import { safeReturnTo } from './return-to.js';
import { sessionFromIdToken } from './session.js';

export function callbackHandler(ctx: PortalContext): RequestHandler {
  const { options, config } = ctx;
  return async (req, res) => {
    const tx = await ctx.transactions.open(readCookie(req, ctx.transactionCookie));
    const home = `${options.basePath}/`;
    clearCookie(res, ctx.transactionCookie, { secure: options.secureCookies, path: transactionCookiePath(options) });
    if (!tx) {
      if (await ctx.getSession(req)) return void res.redirect(303, home); // a reload or back button after sign-in
      signInFailed(req, res, options.basePath, home, 'This sign-in has expired or was already completed. Please sign in again.');
      return;
    }
    try {
      const currentUrl = new URL(options.redirectUri);
      currentUrl.search = new URL(req.originalUrl, options.baseUrl).search;
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: tx.codeVerifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
      });
      const claims = tokens.claims();
      if (!claims || !tokens.id_token) throw new Error('the token response has no ID token');
      const session = sessionFromIdToken(claims, tokens.id_token);
      writeCookie(res, options.cookieName, await ctx.sessions.seal(session, options.sessionTtlSeconds), {
        secure: options.secureCookies,
        path: sessionCookiePath(options),
        ttlSeconds: options.sessionTtlSeconds,
      });
      // Asked for an acr the IdP did not give: say so instead of sending the person back to requireAcr in a loop.
      if (tx.acrValues && !tx.acrValues.split(' ').includes(session.acr ?? '')) return acrNotReached(req, res, options.basePath);
      res.set('Cache-Control', 'no-store').redirect(303, safeReturnTo(tx.returnTo, options.basePath)); // checked again: never off-origin
    } catch (err) {
      options.logger.warn({ err }, 'sign-in callback failed');
      const cancelled = err instanceof oidc.AuthorizationResponseError && err.error === 'access_denied';
      signInFailed(req, res, options.basePath, safeReturnTo(tx.returnTo, options.basePath), cancelled ? 'Sign-in was cancelled.' : 'Sign-in could not be completed. Please try again.');
    }
  };
}

function signInFailed(req: Request, res: Response, basePath: string, returnTo: string, message: string): void {
  sendProblem(req, res, 400, 'sign_in_failed', {
    title: 'Sign-in did not complete',
    message,
    link: { href: `${basePath}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, label: 'Sign in again' },
  });
}

function acrNotReached(req: Request, res: Response, basePath: string): void {
  sendProblem(req, res, 403, 'insufficient_user_authentication', {
    title: 'A stronger sign-in is needed',
    message: 'This page needs a sign-in with a passkey (a phishing-resistant method), and this sign-in used another method. Register a passkey on your account page at the identity provider, then sign in again.',
    link: { href: `${basePath}/`, label: 'Home' },
  });
}
