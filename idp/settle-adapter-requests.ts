/**
 * The token endpoint's held-back consume (storage/oidc-adapter.ts): the adapter carries out the consume of an
 * authorization code or refresh token with the first token the request saves, one statement instead of two.
 * A request that saves none — a JWT access token (RFC 9068) with no refresh token — still has to consume, and
 * this middleware has the adapter do it once oidc-provider's answer is ready, before it leaves. A request answered
 * with an error consumes nothing (nothing was issued).
 *
 * When another request consumed the code first, the answer becomes oidc-provider's own for a reused code:
 * `400 invalid_grant` (RFC 6749 §5.2), with the grant revoked by the adapter and `grant.error` emitted, so the
 * tokens built for this answer are never sent.
 */
import type { OidcAdapterFactory, OidcContext, Provider } from './oidc.js';
import { oidcErrors } from './oidc.js';

/** What an adapter class offers for this (storage/'s `OidcAdapterClass`); others need nothing. */
interface SettlingAdapter {
  settleRequest(ctx: object, succeeded: boolean): Promise<void>;
}

const settles = (adapter: OidcAdapterFactory): adapter is OidcAdapterFactory & SettlingAdapter =>
  typeof (adapter as Partial<SettlingAdapter>).settleRequest === 'function';

/** Installs the middleware on `provider` for `adapter` (does nothing for an adapter without `settleRequest`). */
export function settleAdapterRequests(provider: Provider, adapter: OidcAdapterFactory): void {
  if (!settles(adapter)) return;
  // The path as oidc-provider's router sees it (below the issuer's path: the mount path is stripped first).
  const tokenPath = provider.pathFor('token', { mountPath: '' });
  provider.use(async (ctx: OidcContext, next) => {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    await next();
    try {
      await adapter.settleRequest(ctx, ctx.status === 200);
    } catch (err) {
      if (!(err instanceof oidcErrors.InvalidGrant)) throw err;
      ctx.status = err.statusCode;
      ctx.body = { error: err.error, error_description: err.error_description };
      provider.emit('grant.error', ctx, err);
    }
  });
}
