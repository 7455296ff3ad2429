/**
 * The admin console for delegated administrators: an Express app on its own origin that signs people in
 * through the IdP (portal-adapters), lets in only delegated administrators, and serves the dashboard,
 * accounts and change request pages.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import helmet from 'helmet';
import { createPortalAuth } from '../portal-adapters/index.js';
import { accountRoutes } from './account-routes.js';
import { accountDetailRoutes } from './account-detail-routes.js';
import { draftRoutes } from './draft-routes.js';
import { consoleErrorPage } from './error-page.js';
import { rejectControlCharactersInBody, rejectControlCharactersInUrl } from './reject-control-characters.js';
import { auditRoutes } from './audit-routes.js';
import { requireCsrfToken } from './csrf.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { requireAdministrator, requireOrganization } from './gate.js';
import { operatorRoutes } from './operator-routes.js';
import type { AdminConsoleOptions } from './options.js';
import { organizationRoutes } from './organization-routes.js';
import { requestRoutes } from './request-routes.js';
import { sftpRoutes } from './sftp-routes.js';
import { basePathOf, consoleRelativeUrls } from './mount-path.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function baseApp(issuer: string, basePath: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(consoleRelativeUrls(basePath));
  app.set('view engine', 'ejs');
  app.set('views', path.join(here, 'views'));
  app.use(helmet({ contentSecurityPolicy: { directives: { 'form-action': ["'self'", new URL(issuer).origin], 'frame-ancestors': ["'none'"] } } }));
  app.use('/static', express.static(path.join(here, 'public'), { maxAge: '1h' }));
  app.use((_req, res, next) => void (res.set('Cache-Control', 'no-store'), next()));
  return app;
}

/**
 * Builds the console (discovers the issuer first). Routes: `/auth/*` (sign-in, callback, logout),
 * `GET|POST /organization`, `GET /`, `GET /accounts`, `GET|POST /accounts/new`, `GET /accounts/:id`, `POST /accounts/:id/<change>`,
 * `GET|POST /requests/:id/edit`, `GET /requests/:id`, `GET /audit` and `GET /audit.csv` (the organization's audit log),
 * `POST /requests/:id/(submit|claim|confirm|reject|reclaim|discard|clone)`. Signed-out GETs go to sign-in;
 * accounts that are neither delegated administrators nor operators get a 403 page; `/operator/*` (operator-routes.ts) answers 404 to non-operators; POSTs need the session's CSRF token.
 * With a path in `baseUrl` (`https://portal.example.com/admin`) every route, link, redirect and cookie is under
 * that path (mount-path.ts) and the returned app expects the full request path (mount it so that it sees
 * `/admin/...`, as createConnectIam's `adminConsole` handler does).
 * @throws what `createPortalAuth` throws (invalid options, discovery failure).
 */
export async function createAdminConsole(options: AdminConsoleOptions): Promise<express.Express> {
  const { identity } = options;
  const timeZone = options.timeZone ?? 'UTC';
  const auth = await createPortalAuth({ ...options, cookieName: 'admin_session' });
  const basePath = basePathOf(options.baseUrl);
  const app = baseApp(options.issuer, basePath);
  app.locals.productName = 'connect-iam admin console';
  app.use(rejectControlCharactersInUrl());
  app.use(auth.router);
  app.use(auth.requireAuth());
  app.use(express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }), rejectControlCharactersInBody());
  app.use(requireCsrfToken());
  app.use(requireAdministrator(identity));
  app.use(organizationRoutes(options.baseUrl.startsWith('https:'), basePath || '/'));
  app.use('/operator', operatorRoutes(identity, { clients: options.clients, timeZone }));
  app.use(requireOrganization(identity, timeZone));
  app.use(dashboardRoutes(identity), accountRoutes(identity), accountDetailRoutes(identity), sftpRoutes(identity), draftRoutes(identity), requestRoutes(identity));
  app.use(auditRoutes(identity));
  app.use((_req, res) => void res.status(404).render('error', { title: 'Page not found', message: 'There is no page at this address.' }));
  app.use(consoleErrorPage(options.logger));
  if (!basePath) return app;
  const mounted = express();
  mounted.disable('x-powered-by');
  mounted.use(basePath, app);
  return mounted;
}
