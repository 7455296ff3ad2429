/**
 * The demo eService portal: online forms replacing paper ones, protected by portal-adapters.
 * `/` shows who is signed in, for which organization, and the eServices their functions open;
 * `/eservices/user-maintenance` needs `EU_UserMaintenance`; `GET /api/profile` takes a bearer access token.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import { createPortalAuth, type PortalSession } from '../../portal-adapters/index.js';
import { FUNCTIONS, listEServices } from '../../policies/index.js';
import { createPortalApp, finishPortalApp, type DemoPortalOptions } from '../common/portal-app.js';

/** Options of the eService portal. */
export interface EServicePortalOptions extends DemoPortalOptions {
  /** Where the "Go to ECP" link points, e.g. `http://localhost:3002`. Omitted: no link. */
  ecpUrl?: string;
  /** Audience `GET /api/profile` requires of access tokens. Default `urn:connect-iam:portal-api`. */
  apiAudience?: string;
}

/** Pages of the portal that open with a function; other eServices are listed without a link. */
const ESERVICE_PAGES: Record<string, string> = { [FUNCTIONS.EU_UserMaintenance.name]: '/eservices/user-maintenance' };

const views = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');

/** Home page view model: plain values only. */
function homeModel(session: PortalSession | null, ecpUrl: string | undefined) {
  const eServices = session ? listEServices(session.functions).map((s) => ({ ...s, href: ESERVICE_PAGES[s.function] ?? null })) : [];
  return { title: 'eService portal', session, eServices, ecpUrl: ecpUrl ?? null };
}

/**
 * Builds the eService portal (discovers the issuer first).
 * @throws what `createPortalAuth` throws (invalid options, discovery failure).
 */
export async function createEServicePortal(options: EServicePortalOptions): Promise<express.Express> {
  const auth = await createPortalAuth({ ...options, cookieName: 'eservice_session', onDenied: (_req, res, decision) => {
    res.status(403).render('error', { title: 'Access denied', message: decision.message, session: res.locals.session });
  } });
  const app = createPortalApp(views, options.issuer, 'eService portal');
  app.use(auth.router);

  app.get('/', async (req, res) => {
    res.set('Cache-Control', 'no-store').render('home', homeModel(await auth.getSession(req), options.ecpUrl));
  });
  app.get('/eservices/user-maintenance', auth.requireFunction(FUNCTIONS.EU_UserMaintenance.name), (_req, res) => {
    const forms = FUNCTIONS.EU_UserMaintenance.eServices;
    res.set('Cache-Control', 'no-store').render('user-maintenance', { title: 'User maintenance', session: res.locals.session, forms });
  });
  app.get('/api/profile', auth.verifyBearer({ audience: options.apiAudience ?? 'urn:connect-iam:portal-api' }), (_req, res) => {
    res.json(res.locals.accessToken);
  });

  finishPortalApp(app, options.logger);
  return app;
}
