/**
 * oidc-provider builds endpoint URLs (discovery, `returnTo`, redirects) from the request's protocol and Host
 * (Koa's `ctx.href`). Public URLs must come from config (design/security.md §6), so every request is given the
 * issuer's protocol and host before oidc-provider sees it: a forged Host or `X-Forwarded-Host` header cannot
 * change any URL it answers, and cookies are `Secure` exactly when the issuer is https.
 */
import type { Provider } from './oidc.js';

/** Pins the protocol and host oidc-provider sees to those of `issuer`. */
export function pinPublicOrigin(provider: Provider, issuer: string): void {
  const { protocol, host } = new URL(issuer);
  const pinned = { protocol: { value: protocol.slice(0, -1) }, host: { value: host } };
  provider.use(async (ctx, next) => {
    Object.defineProperties((ctx as unknown as { request: object }).request, pinned);
    await next();
  });
}
