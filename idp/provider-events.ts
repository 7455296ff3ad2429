/**
 * Listens to oidc-provider's events: protocol errors and revocations go to the log; a successful
 * RP-initiated logout ends the session's offline grants too and publishes `account.signed_out`; a rotated
 * refresh token presented again publishes `refresh_token.reuse_detected` (oidc-provider or the adapter has
 * revoked the grant). Publications are awaited (through a Koa middleware) so the audit log has the event
 * before the response goes out.
 */
import type { Identity } from '../identity/index.js';
import type { Clock, Logger } from '../lib/index.js';
import { reusedRefreshToken, revokeOfflineGrants } from './grants.js';
import type { OidcContext, Provider } from './oidc.js';

/** Error events oidc-provider emits as `(ctx, error)`. */
const ERROR_EVENTS = [
  'authorization.error', 'grant.error', 'userinfo.error', 'revocation.error', 'jwks.error', 'discovery.error',
  'end_session.error', 'end_session_confirm.error', 'end_session_success.error', 'pushed_authorization_request.error',
] as const;

/** Subscribes the logger and the event bus to `provider`. */
export function observeProvider(provider: Provider, deps: { identity: Identity; logger: Logger; clock: Clock }): void {
  const { identity, logger, clock } = deps;
  const pending = new WeakMap<OidcContext, Promise<unknown>>();
  /** Runs `work` for `ctx`; the middleware below awaits it (and logs its failure) before the response. */
  const awaitBeforeResponse = (ctx: OidcContext, work: Promise<unknown>) => {
    work.catch(() => undefined);
    pending.set(ctx, Promise.all([pending.get(ctx), work]));
  };

  provider.on('server_error', (ctx: OidcContext, err: Error) => logger.error({ err, route: ctx.oidc?.route }, 'oidc-provider server_error'));
  for (const name of ERROR_EVENTS) {
    provider.on(name, (ctx: OidcContext, err: { error?: string; error_description?: string; error_detail?: string }) =>
      logger.info({ event: name, error: err.error, description: err.error_description, detail: err.error_detail, route: ctx.oidc?.route }, 'oidc-provider refused a request'),
    );
  }
  provider.on('grant.error', (ctx: OidcContext, err: { reason?: unknown }) => {
    const reused = ctx.oidc ? reusedRefreshToken(ctx, err) : undefined;
    if (!reused) return;
    logger.warn({ clientId: reused.clientId, grantId: reused.grantId }, 'refresh token reuse: grant revoked');
    const data = { clientId: reused.clientId ?? null, grantId: reused.grantId ?? null };
    awaitBeforeResponse(ctx, identity.events.publish({ type: 'refresh_token.reuse_detected', accountId: reused.accountId ?? null, ip: ctx.ip, data }, clock.now()));
  });
  provider.on('grant.revoked', (_ctx: OidcContext, grantId: string) => logger.info({ grantId }, 'grant revoked'));
  provider.on('authorization.success', (ctx: OidcContext) => logger.debug({ clientId: ctx.oidc.client?.clientId }, 'authorization succeeded'));
  provider.on('end_session.success', (ctx: OidcContext) => {
    const accountId = ctx.oidc.session?.accountId;
    logger.info({ accountId, clientId: ctx.oidc.client?.clientId }, 'IdP session ended');
    if (!accountId) return;
    awaitBeforeResponse(ctx, (async () => {
      const offline = await revokeOfflineGrants(ctx);
      await identity.events.publish({ type: 'account.signed_out', accountId, ip: ctx.ip, data: { clientId: ctx.oidc.client?.clientId ?? null, offlineGrants: offline.length } }, clock.now());
    })());
  });

  provider.use(async (ctx, next) => {
    await next();
    const work = pending.get(ctx);
    if (work) await work.catch((err: unknown) => logger.error({ err, route: ctx.oidc?.route }, 'recording a provider event failed'));
  });
}
