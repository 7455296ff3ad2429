/**
 * The token endpoint's held-back writes (storage/oidc-adapter.ts): the adapter holds back the consume of an
 * authorization code or refresh token and the tokens the request saves after it, and this middleware has it
 * carry them out in one statement once oidc-provider's answer is ready, before it leaves (for a refresh: 3 round
 * trips become 2; for a code: 3 become 2, with or without a refresh token). A request answered with an error
 * consumes and saves nothing (nothing was issued).
 *
 * When another request consumed the code first, the answer becomes oidc-provider's own for a reused code:
 * `400 invalid_grant` (RFC 6749 §5.2), with the grant revoked by the adapter and `grant.error` emitted, so the
 * tokens built for this answer are never sent.
 */
import type { OidcAdapterFactory, OidcContext, Provider } from './oidc.js';
import { oidcErrors } from './oidc.js';

/** What an adapter class offers for this (storage/'s `OidcAdapterClass`); others need nothing. */
interface SettlingAdapter {
  beginRequest(ctx: object): void;
  settleRequest(ctx: object, succeeded: boolean): Promise<void>;
}

const settles = (adapter: OidcAdapterFactory): adapter is OidcAdapterFactory & SettlingAdapter =>
  typeof (adapter as Partial<SettlingAdapter>).settleRequest === 'function' && typeof (adapter as Partial<SettlingAdapter>).beginRequest === 'function';

/** Installs the middleware on `provider` for `adapter` (does nothing for an adapter without `settleRequest`). */
export function settleAdapterRequests(provider: Provider, adapter: OidcAdapterFactory): void {
  if (!settles(adapter)) return;
  // The path as oidc-provider's router sees it (below the issuer's path: the mount path is stripped first).
  const tokenPath = provider.pathFor('token', { mountPath: '' });
  provider.use(async (ctx: OidcContext, next) => {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    adapter.beginRequest(ctx);
    await next();
    try {
      await adapter.settleRequest(ctx, ctx.status === 200);
    } catch (err) {
      if (err instanceof oidcErrors.InvalidGrant) {
        ctx.status = err.statusCode;
        ctx.body = { error: err.error, error_description: err.error_description };
        provider.emit('grant.error', ctx, err);
        return;
      }
      // As oidc-provider answers an error of its own adapter: 500 server_error, and its `server_error` event
      // (which unavailable.ts turns into 503 temporarily_unavailable when the database is down).
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'oops! something went wrong' };
      provider.emit('server_error', ctx, err);
    }
  });
}
