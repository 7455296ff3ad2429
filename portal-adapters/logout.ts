/**
 * `POST /auth/logout`: ends the application session and sends the person to the IdP's
 * `end_session_endpoint` with `id_token_hint` and `post_logout_redirect_uri` (OIDC RP-Initiated Logout 1.0 §2),
 * which ends the single sign-on session too. The form must carry the session's `_csrf` token
 * (or the `X-CSRF-Token` header); without a session it simply returns home.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import * as oidc from 'openid-client';
import { clearCookie } from './cookies.js';
import { sessionCookiePath, type PortalContext } from './context.js';
import { sendProblem } from './pages.js';

export function logoutHandler(ctx: PortalContext): RequestHandler {
  const { options, config } = ctx;
  return async (req, res) => {
    const session = await ctx.getSession(req);
    res.set('Cache-Control', 'no-store');
    if (!session) return void res.redirect(303, options.postLogoutRedirectUri);
    const presented = (req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token');
    if (!sameToken(presented, session.csrfToken)) {
      sendProblem(req, res, 403, 'invalid_csrf_token', {
        title: 'Sign-out not confirmed',
        message: 'This sign-out form has expired. Reload the page and sign out again.',
        link: { href: `${options.basePath}/`, label: 'Home' },
      });
      return;
    }
    clearCookie(res, options.cookieName, { secure: options.secureCookies, path: sessionCookiePath(options) });
    res.redirect(303, endSessionUrl(config, session.idToken, options.postLogoutRedirectUri));
  };
}

/** The IdP's logout URL, or our own home page when the IdP has no `end_session_endpoint`. */
function endSessionUrl(config: oidc.Configuration, idToken: string, postLogoutRedirectUri: string): string {
  if (!config.serverMetadata().end_session_endpoint) return postLogoutRedirectUri;
  return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri }).href;
}

function sameToken(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
