/**
 * The security headers of every IdP page (design/security.md §11), through helmet: a strict Content Security
 * Policy, `X-Frame-Options: DENY`, HSTS when the issuer is https, and helmet's other defaults (nosniff,
 * no referrer, …). Exported so that pages served beside the IdP (`/dev/outbox`) get exactly the same.
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * Only our own origin, no inline script, no framing. `form-action` is left out on purpose: the sign-in form's
 * redirect chain ends at the client's redirect URI, and the `form_post` response mode posts to the client —
 * browsers apply `form-action` to both. oidc-provider adds the hash of its one inline `form_post` script.
 */
export function contentSecurityPolicy(secure: boolean): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
    ...(secure ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/**
 * The helmet middleware of the IdP's pages.
 * @param secure - true when the issuer is https: adds HSTS and `upgrade-insecure-requests`.
 */
export function securityHeaders(secure: boolean): RequestHandler {
  return helmet({ contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(secure) }, strictTransportSecurity: secure, xFrameOptions: { action: 'deny' } });
}
