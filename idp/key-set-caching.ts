/**
 * `Cache-Control` on the answers relying parties cache: the JWKS (RFC 7517) and discovery (OIDC Discovery §4,
 * RFC 8414 §3). Their max-age stays below the signing-key publish-ahead delay (SIGNING_KEY_PUBLISH_AHEAD_SECONDS),
 * so a relying party that honours it has fetched a rotated key before the first token signed with it arrives.
 * Error answers are left as oidc-provider makes them.
 */
import type { Provider } from './oidc.js';

/** The oidc-provider routes whose answers are cacheable. */
const CACHEABLE_ROUTES = new Set(['jwks', 'discovery']);

/** Installs the header on `provider`: `public, max-age=<maxAgeSeconds>` on successful JWKS and discovery answers. */
export function cacheKeySetAnswers(provider: Provider, maxAgeSeconds: number): void {
  provider.use(async (ctx, next) => {
    await next();
    const route = (ctx as { oidc?: { route?: string } }).oidc?.route;
    if (route && CACHEABLE_ROUTES.has(route) && ctx.method === 'GET' && ctx.status === 200) ctx.set('cache-control', `public, max-age=${maxAgeSeconds}`);
  });
}
