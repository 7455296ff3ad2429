/**
 * GET / — the IdP home page. People arrive here when a sign-in page expired and its application is unknown
 * (`?expired=1`): it says so and links to each registered application's `initiate_login_uri`.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '../lib/index.js';
import { sendPage } from './interactions/context.js';
import { loginInitiationUrl, type Application } from './restart.js';
import type { RenderPage } from './views.js';

/** Creates the handler. Without `listApplications`, the page asks to open the application. */
export function homePage(deps: { render: RenderPage; logger: Logger; issuer: string; listApplications?: () => Promise<Application[]> }): RequestHandler {
  return async (req, res) => {
    const listed = await deps.listApplications?.().catch((err: unknown) => {
      deps.logger.warn({ err }, 'listing applications for the home page failed');
      return [];
    });
    const applications = (listed ?? []).map((a) => ({ name: a.name, initiateLoginUri: loginInitiationUrl(a.initiateLoginUri, deps.issuer) }));
    await sendPage(res, deps.render, 200, 'home', { title: 'Sign in', expired: req.query.expired === '1', applications });
  };
}
