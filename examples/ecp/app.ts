/**
 * The demo ECP file platform, protected by portal-adapters. Every page needs sign-in; what the web
 * interface shows follows policies' `evaluateEcpAccess`: folders for web functions, "Error 2000" for
 * administration rights only, an SFTP-only page for `EU_ECPSFTP` alone, and a refusal without any ECP function.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type express from 'express';
import { createPortalAuth, type PortalSession } from '../../portal-adapters/index.js';
import { evaluateEcpAccess, type EcpAccess } from '../../policies/index.js';
import { createPortalApp, finishPortalApp, type DemoPortalOptions } from '../common/portal-app.js';

/** Options of ECP. */
export interface EcpOptions extends DemoPortalOptions {
  /** Where the "Back to the eService portal" link points. Omitted: no link. */
  eservicePortalUrl?: string;
}

const views = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');

/** Page titles of each refusal (the seeds' ECP calls the administrators' one "Error 2000"). */
const REFUSAL_TITLES: Record<Exclude<EcpAccess['reason'], 'ecp_web'>, string> = {
  ecp_administration_only: 'Error 2000',
  ecp_sftp_only: 'SFTP access only',
  no_ecp_function: 'No access to ECP',
};

/** View model of the home page or of its refusal. */
function homeModel(session: PortalSession, access: EcpAccess, eservicePortalUrl: string | undefined) {
  const title = access.reason === 'ecp_web' ? 'ECP' : REFUSAL_TITLES[access.reason];
  return { title, session, access, eservicePortalUrl: eservicePortalUrl ?? null };
}

/**
 * Builds ECP (discovers the issuer first).
 * @throws what `createPortalAuth` throws (invalid options, discovery failure).
 */
export async function createEcp(options: EcpOptions): Promise<express.Express> {
  const auth = await createPortalAuth({ ...options, cookieName: 'ecp_session' });
  const app = createPortalApp(views, options.issuer, 'ECP');
  app.use(auth.router);

  app.get('/', auth.requireAuth(), (_req, res) => {
    const session = res.locals.session as PortalSession;
    const access = evaluateEcpAccess(session.functions);
    const model = homeModel(session, access, options.eservicePortalUrl);
    res.set('Cache-Control', 'no-store').status(access.allowed ? 200 : 403).render(access.allowed ? 'folders' : 'refused', model);
  });

  finishPortalApp(app, options.logger);
  return app;
}
