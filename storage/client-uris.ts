/**
 * Validation of client URIs before they are registered: absolute, no fragment (RFC 6749 §3.1.2), and
 * `https:` — or `http:` on a loopback host (localhost, 127.0.0.1, [::1]) for development (RFC 8252 §7.3).
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why `uri` may not be registered, or null when it may. */
export function uriProblem(uri: string): string | null {
  const url = URL.parse(uri);
  if (!url) return `"${uri}" is not an absolute URL.`;
  if (uri.includes('#')) return `"${uri}" has a fragment (#…); redirect URIs may not.`;
  if (url.username || url.password) return `"${uri}" contains credentials.`;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return `"${uri}" must use https (plain http only on localhost, 127.0.0.1 or [::1]).`;
}

/** Problems of every URI in `uris`, or an empty array. */
export function uriProblems(uris: readonly string[]): string[] {
  return uris.map(uriProblem).filter((p): p is string => p !== null);
}

/** True for an `https:` URL: the only kind oidc-provider accepts as `initiate_login_uri` (OIDC Core §4). */
export function isHttpsUri(uri: string): boolean {
  return URL.parse(uri)?.protocol === 'https:';
}
