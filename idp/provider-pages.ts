/**
 * Our pages for oidc-provider's own screens: the logout confirmation (`logoutSource`), the post-logout page
 * (`postLogoutSuccessSource`) and errors (`renderError`). No stack trace is ever shown: server errors get a
 * generic message and an error id that is logged with the cause. A missing or expired sign-in session
 * (`SessionNotFound`, e.g. a replayed `/auth/:uid`) is not an error for the person: the sign-in restarts.
 */
import { isUnavailable, randomToken, type Logger } from '../lib/index.js';
import { oidcErrors, type OidcContext } from './oidc.js';
import { loginInitiationUrl, type RestartUrl } from './restart.js';
import { UNAVAILABLE_PAGE } from './unavailable.js';
import type { RenderPage } from './views.js';

/** Creates the three page hooks of the provider configuration. */
export function createProviderPages(deps: { render: RenderPage; logger: Logger; restartUrl: RestartUrl }) {
  const { render, logger, restartUrl } = deps;

  async function html(ctx: OidcContext, page: string, model: Parameters<RenderPage>[1]): Promise<void> {
    ctx.type = 'html';
    ctx.body = await render(page, model);
  }

  return {
    async logoutSource(ctx: OidcContext): Promise<void> {
      const xsrf = ctx.oidc.session?.state?.secret ?? '';
      await html(ctx, 'logout', { title: 'Sign out', action: ctx.oidc.urlFor('end_session_confirm'), xsrf });
    },

    async postLogoutSuccessSource(ctx: OidcContext): Promise<void> {
      const client = ctx.oidc.client;
      const application = client?.initiateLoginUri
        ? { name: client.clientName ?? client.clientId, initiateLoginUri: loginInitiationUrl(client.initiateLoginUri, ctx.oidc.provider.issuer) }
        : null;
      await html(ctx, 'logged-out', { title: 'You have signed out', application });
    },

    async renderError(ctx: OidcContext, out: { error?: string; error_description?: string }, error: Error): Promise<void> {
      if (error instanceof oidcErrors.SessionNotFound) {
        ctx.status = 303;
        ctx.redirect(await restartUrl(ctx.oidc.provider, ctx.oidc.client?.clientId));
        return;
      }
      const errorId = randomToken(9);
      if (isUnavailable(error)) {
        ctx.status = 503;
        logger.error({ err: error, errorId, route: ctx.oidc.route }, 'database unavailable');
        await html(ctx, 'error', { ...UNAVAILABLE_PAGE, errorId });
        return;
      }
      const serverError = ctx.status >= 500;
      if (serverError) logger.error({ err: error, errorId, route: ctx.oidc.route }, 'oidc-provider request failed');
      else logger.info({ errorId, error: out.error, description: out.error_description, route: ctx.oidc.route }, 'oidc-provider request refused');
      const message = serverError
        ? 'Something went wrong on our side. Please try again in a moment.'
        : `The application sent a request we cannot accept (${out.error ?? 'invalid_request'}: ${out.error_description ?? 'no details'}). Go back to the application and try again.`;
      await html(ctx, 'error', { title: serverError ? 'Something went wrong' : 'This request cannot be completed', message, errorId });
    },
  };
}
