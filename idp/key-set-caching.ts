/**
 * `Cache-Control` on the answers relying parties cache: the JWKS (RFC 7517) and discovery (OIDC Discovery §4,
 * RFC 8414 §3). Their max-age stays below the signing-key publish-ahead delay (SIGNING_KEY_PUBLISH_AHEAD_SECONDS),
 * so a relying party that honours it has fetched a rotated key before the first token signed with it arrives.
 * Error answers are left as oidc-provider makes them.
 */
import type { Provider } from './oidc.js';

/** The oidc-provider routes whose answers are cacheable. */
const CACHEABLE_ROUTES = new Set(['jwks', 'discovery']);

/** Discovery's two documents (OIDC Discovery §4, RFC 8414 §3), both oidc-provider's `discovery` route. */
const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

/**
 * Installs the header on `provider`: `public, max-age=<maxAgeSeconds>` on successful (200) GET answers of the
 * JWKS and discovery routes. Other requests (token, userinfo, …) pass straight on, without an extra async step
 * after oidc-provider's answer (issue 10 §3).
 */
export function cacheKeySetAnswers(provider: Provider, maxAgeSeconds: number): void {
  const value = `public, max-age=${maxAgeSeconds}`;
  // Paths as oidc-provider's router sees them (below the issuer's path: the mount path is stripped first).
  const paths = new Set([provider.pathFor('jwks', { mountPath: '' }), ...DISCOVERY_PATHS]);
  provider.use((ctx, next) => {
    if (ctx.method !== 'GET' || !paths.has(ctx.path)) return next();
    return next().then(() => {
      const route = (ctx as { oidc?: { route?: string } }).oidc?.route;
      if (route && CACHEABLE_ROUTES.has(route) && ctx.status === 200) ctx.set('cache-control', value);
    });
  });
}
