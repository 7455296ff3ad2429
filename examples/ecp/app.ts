/**
 * The demo ECP file platform, protected by portal-adapters. Every page needs sign-in; what the web
 * interface shows follows policies' `evaluateEcpAccess`: folders for web functions, an SFTP-only page for
 * `EU_ECPSFTP` alone, and "Error 2000" for every other account without an ECP web function — administration
 * rights only, or no ECP function at all (seed FAQ 004 question 5: "Error 2000 Message will be prompted if users
 * without ECP functions try to access ECP 2.0").
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

/** What Error 2000 means, shown on its page above the reason that applies to the account. */
export const ERROR_2000_EXPLANATION = 'This error means that ECP can be used only by accounts holding an ECP web function, such as ECP clearing submission or ECP report download.';

/** Title and explanation of each refusal: the seeds' "Error 2000" for every account without an ECP web function, except SFTP-only ones. */
const REFUSALS: Record<Exclude<EcpAccess['reason'], 'ecp_web'>, { title: string; explanation: string | null }> = {
  ecp_administration_only: { title: 'Error 2000', explanation: ERROR_2000_EXPLANATION },
  no_ecp_function: { title: 'Error 2000', explanation: ERROR_2000_EXPLANATION },
  ecp_sftp_only: { title: 'SFTP access only', explanation: null },
};

/** View model of the home page or of its refusal. */
function homeModel(session: PortalSession, access: EcpAccess, eservicePortalUrl: string | undefined) {
  const refusal = access.reason === 'ecp_web' ? { title: 'ECP', explanation: null } : REFUSALS[access.reason];
  return { ...refusal, session, access, eservicePortalUrl: eservicePortalUrl ?? null };
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
