/**
 * CSRF protection for every state-changing request: the synchronizer token portal-adapters keeps in the
 * encrypted session (`session.csrfToken`) must come back as the form field `_csrf`.
 */
import type { RequestHandler } from 'express';
import { safeEqual } from '../lib/index.js';
import type { PortalSession } from '../portal-adapters/index.js';

/**
 * Lets GET and HEAD through; any other method needs `_csrf` equal to the session's token, else 403 and
 * nothing happens. Mount after the body parser and `requireAuth()`.
 */
export function requireCsrfToken(): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const session = res.locals.session as PortalSession;
    const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
    if (typeof sent === 'string' && safeEqual(sent, session.csrfToken)) return next();
    res.status(403).render('error', { title: 'Form expired', message: 'This form has expired or did not come from this console. Go back, reload the page and try again.' });
  };
}
