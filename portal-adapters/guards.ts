/**
 * Enforcement points for pages and routes: `requireAuth()` and `requireFunction(...)`. Both put the
 * session on `res.locals.session` for the handlers after them. After `verifyBearer`, `requireFunction`
 * decides on the access token's `functions` claim instead (an API called with a token, e.g. a service client's).
 */
import type { Request, RequestHandler, Response } from 'express';
import type { JWTPayload } from 'jose';
import { evaluateFunctions, type Decision } from '../policies/index.js';
import type { PortalContext } from './context.js';
import { sendProblem } from './pages.js';
import { verifiedAccessToken } from './verify-bearer.js';

/** The function names of an access token's `functions` claim; none when it is absent or not an array. */
function tokenFunctions(claims: JWTPayload): string[] {
  return Array.isArray(claims.functions) ? claims.functions.filter((name): name is string => typeof name === 'string') : [];
}

/**
 * A token without the function: `onDenied`, or 403 JSON `{ error: 'forbidden', message, reason }` with
 * `WWW-Authenticate: <scheme> error="insufficient_scope"` (RFC 6750 §3.1; the DPoP scheme for a bound token, RFC 9449 §7.1).
 */
function tokenDenied(ctx: PortalContext, req: Request, res: Response, claims: JWTPayload, decision: Decision): void {
  if (ctx.options.onDenied) return ctx.options.onDenied(req, res, decision);
  res.set('WWW-Authenticate', `${claims.cnf ? 'DPoP' : 'Bearer'} error="insufficient_scope"`).set('Cache-Control', 'no-store');
  res.status(403).json({ error: 'forbidden', message: decision.message, reason: decision.reason });
}

/** Signed out: a GET or HEAD goes to sign-in and comes back; any other method gets 401 JSON. */
function unauthenticated(ctx: PortalContext, req: Request, res: Response): void {
  res.set('Cache-Control', 'no-store');
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.redirect(303, `${ctx.options.basePath}/auth/login?returnTo=${encodeURIComponent(req.originalUrl)}`);
  } else {
    res.status(401).json({ error: 'unauthenticated', message: 'Sign in first.' });
  }
}

export function requireAuthMiddleware(ctx: PortalContext): RequestHandler {
  return async (req, res, next) => {
    const session = await ctx.getSession(req);
    if (!session) return unauthenticated(ctx, req, res);
    res.locals.session = session;
    next();
  };
}

export function requireFunctionMiddleware(ctx: PortalContext, names: readonly string[]): RequestHandler {
  return async (req, res, next) => {
    const claims = verifiedAccessToken(ctx, req);
    if (claims) {
      const decision = evaluateFunctions(tokenFunctions(claims), names);
      return decision.allowed ? next() : tokenDenied(ctx, req, res, claims, decision);
    }
    const session = await ctx.getSession(req);
    if (!session) return unauthenticated(ctx, req, res);
    res.locals.session = session;
    const decision = evaluateFunctions(session.functions, names);
    if (decision.allowed) return next();
    if (ctx.options.onDenied) return ctx.options.onDenied(req, res, decision);
    sendProblem(req, res, 403, 'forbidden', { title: 'Access denied', message: decision.message, link: { href: `${ctx.options.basePath}/`, label: 'Home' } }, { reason: decision.reason });
  };
}
