/**
 * Enforcement points for pages and routes: `requireAuth()` and `requireFunction(...)`. Both put the
 * session on `res.locals.session` for the handlers after them.
 */
import type { Request, RequestHandler, Response } from 'express';
import { evaluateFunctions } from '../policies/index.js';
import type { PortalContext } from './context.js';
import { sendProblem } from './pages.js';

/** Signed out: a GET or HEAD goes to sign-in and comes back; any other method gets 401 JSON. */
function unauthenticated(req: Request, res: Response): void {
  res.set('Cache-Control', 'no-store');
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.redirect(303, `/auth/login?returnTo=${encodeURIComponent(req.originalUrl)}`);
  } else {
    res.status(401).json({ error: 'unauthenticated', message: 'Sign in first.' });
  }
}

export function requireAuthMiddleware(ctx: PortalContext): RequestHandler {
  return async (req, res, next) => {
    const session = await ctx.getSession(req);
    if (!session) return unauthenticated(req, res);
    res.locals.session = session;
    next();
  };
}

export function requireFunctionMiddleware(ctx: PortalContext, names: readonly string[]): RequestHandler {
  return async (req, res, next) => {
    const session = await ctx.getSession(req);
    if (!session) return unauthenticated(req, res);
    res.locals.session = session;
    const decision = evaluateFunctions(session.functions, names);
    if (decision.allowed) return next();
    if (ctx.options.onDenied) return ctx.options.onDenied(req, res, decision);
    sendProblem(req, res, 403, 'forbidden', { title: 'Access denied', message: decision.message, link: { href: '/', label: 'Home' } }, { reason: decision.reason });
  };
}
