/**
 * What both demo portals share: an Express app with helmet's security headers, EJS views (the portal's
 * own folder first, then common/views), the stylesheet, and a last-resort error page without details.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler } from 'express';
import helmet from 'helmet';
import { badRequestOf } from '../../lib/index.js';
import { rejectControlCharactersInUrl } from './reject-control-characters.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Options every demo portal accepts. */
export interface DemoPortalOptions {
  /** The IdP's issuer URL. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** This portal's public origin, e.g. `http://localhost:3001`. */
  baseUrl: string;
  /** ≥ 32 characters; the session cookie key is derived from it. */
  cookieSecret: string;
  /** Only for an `http:` issuer (development, tests). */
  allowInsecureRequests?: boolean;
  /** Receives sign-in failures; default `console.warn`. */
  logger?: { warn(details: object, message: string): void };
}

/**
 * A bare portal app. `form-action` allows the issuer because sign-out posts to `/auth/logout`, which
 * redirects to the IdP's end-session endpoint (browsers apply form-action to that redirect).
 */
export function createPortalApp(viewsDir: string, issuer: string, productName: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('view engine', 'ejs');
  app.set('views', [viewsDir, path.join(here, 'views')]);
  app.locals.productName = productName;
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'form-action': ["'self'", new URL(issuer).origin], 'frame-ancestors': ["'none'"] },
      },
    }),
  );
  app.use('/static', express.static(path.join(here, 'public'), { maxAge: '1h' }));
  app.use(rejectControlCharactersInUrl());
  return app;
}

/**
 * Ends the middleware chain: 404 page, then the error page, which shows no stack trace: a malformed request
 * (oversized or unreadable body, too many fields, unsupported charset or encoding, malformed percent-encoding;
 * lib/bad-input.ts) gets its 4xx, anything else a generic 500 that is logged.
 */
export function finishPortalApp(app: express.Express, logger: DemoPortalOptions['logger']): void {
  app.use((_req, res) => {
    res.status(404).render('error', { title: 'Page not found', message: 'There is no page at this address.' });
  });
  const onError: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const bad = badRequestOf(err);
    if (bad) return res.status(bad.status).render('error', { title: bad.title, message: bad.message });
    (logger ?? { warn: (d: object, m: string) => console.warn(m, d) }).warn({ err }, 'portal request failed');
    res.status(500).render('error', { title: 'Something went wrong', message: 'Please try again in a moment.' });
  };
  app.use(onError);
}
