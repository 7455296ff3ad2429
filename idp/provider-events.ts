/**
 * Listens to oidc-provider's events: protocol errors and revocations go to the log, and a successful
 * RP-initiated logout publishes `account.signed_out`. The publication is awaited (through a Koa middleware)
 * so the audit log has the event before the browser is redirected.
 */
import type { Identity } from '../identity/index.js';
import type { Clock, Logger } from '../lib/index.js';
import type { OidcContext, Provider } from './oidc.js';

/** Error events oidc-provider emits as `(ctx, error)`. */
const ERROR_EVENTS = [
  'authorization.error', 'grant.error', 'userinfo.error', 'revocation.error', 'jwks.error', 'discovery.error',
  'end_session.error', 'end_session_confirm.error', 'end_session_success.error', 'pushed_authorization_request.error',
] as const;

/** Subscribes the logger and the event bus to `provider`. */
export function observeProvider(provider: Provider, deps: { identity: Identity; logger: Logger; clock: Clock }): void {
  const { identity, logger, clock } = deps;
  const signOuts = new WeakMap<OidcContext, Promise<unknown>>();

  provider.on('server_error', (ctx: OidcContext, err: Error) => logger.error({ err, route: ctx.oidc?.route }, 'oidc-provider server_error'));
  for (const name of ERROR_EVENTS) {
    provider.on(name, (ctx: OidcContext, err: { error?: string; error_description?: string; error_detail?: string }) =>
      logger.info({ event: name, error: err.error, description: err.error_description, detail: err.error_detail, route: ctx.oidc?.route }, 'oidc-provider refused a request'),
    );
  }
  provider.on('grant.revoked', (_ctx: OidcContext, grantId: string) => logger.info({ grantId }, 'grant revoked'));
  provider.on('authorization.success', (ctx: OidcContext) => logger.debug({ clientId: ctx.oidc.client?.clientId }, 'authorization succeeded'));
  provider.on('end_session.success', (ctx: OidcContext) => {
    const accountId = ctx.oidc.session?.accountId;
    logger.info({ accountId, clientId: ctx.oidc.client?.clientId }, 'IdP session ended');
    if (!accountId) return;
    const published = identity.events.publish({ type: 'account.signed_out', accountId, ip: ctx.ip, data: { clientId: ctx.oidc.client?.clientId ?? null } }, clock.now());
    published.catch(() => undefined); // awaited (and its failure logged) by the middleware below
    signOuts.set(ctx, published);
  });

  provider.use(async (ctx, next) => {
    await next();
    const published = signOuts.get(ctx);
    if (published) await published.catch((err: unknown) => logger.error({ err }, 'recording account.signed_out failed'));
  });
}
