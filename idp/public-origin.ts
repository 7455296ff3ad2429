/**
 * oidc-provider builds endpoint URLs (discovery, `returnTo`, redirects) from the request's protocol and Host
 * (Koa's `ctx.href`). Public URLs must come from config (design/security.md §6), so every request is given the
 * issuer's protocol and host before oidc-provider sees it: a forged Host or `X-Forwarded-Host` header cannot
 * change any URL it answers, and cookies are `Secure` exactly when the issuer is https.
 */
import type { Provider } from './oidc.js';

/**
 * Pins the protocol and host oidc-provider sees to those of `issuer`.
 *
 * oidc-provider is a Koa application, and Koa makes each request's `ctx.request` with
 * `Object.create(app.request)`: constant `protocol` and `host` values defined once on that prototype shadow
 * Koa's header-reading getters for every request (and `origin`, `href`, `hostname`, `secure`, which read them),
 * at no cost per request (issue 10: defining them on each request cost about 15 µs).
 */
export function pinPublicOrigin(provider: Provider, issuer: string): void {
  const { protocol, host } = new URL(issuer);
  Object.defineProperties((provider as unknown as { request: object }).request, {
    protocol: { value: protocol.slice(0, -1), enumerable: true },
    host: { value: host, enumerable: true },
  });
}
