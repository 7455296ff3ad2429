/**
 * Where to go after sign-in. Only a same-origin relative path is accepted, so `returnTo` can never send
 * a person to another site (open redirect, OWASP ASVS 5.0 V3 / OAuth 2.0 Security BCP §4.11).
 */

const BASE = 'https://return-to.invalid';

/**
 * Returns `value` when it is a same-origin relative path (`/path?query#fragment`), otherwise `/`.
 * Refused: absolute and scheme-relative URLs (`//evil`, `/\evil`), backslashes, control characters,
 * paths over 2048 characters, and the adapter's own `/auth/` routes.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2048) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE || url.pathname.startsWith('/auth/')) return '/';
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * The path of `target` when it is an absolute URL on `baseUrl`'s origin (OIDC Core §4 `target_link_uri`,
 * which the RP must verify), otherwise `/`.
 */
export function returnToFromTarget(target: unknown, baseUrl: string): string {
  if (typeof target !== 'string') return '/';
  try {
    const url = new URL(target);
    return url.origin === new URL(baseUrl).origin ? safeReturnTo(`${url.pathname}${url.search}${url.hash}`) : '/';
  } catch {
    return '/';
  }
}
