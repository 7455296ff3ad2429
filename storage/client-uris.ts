/**
 * Validation of client URIs before they are registered (console and CLI alike): absolute, no fragment
 * (RFC 6749 §3.1.2), no wildcard (exact matching only: OAuth 2.0 Security BCP, RFC 9700 §4.1.3), no credentials,
 * and `https:` — or `http:` on a loopback host (localhost, 127.0.0.1, [::1]) for development (RFC 8252 §7.3).
 * Anything else (`javascript:`, `data:`, custom schemes, plain http elsewhere) is refused.
 */

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True when `*` appears in the URI as written or, percent-encoded, in its host or path. */
function hasWildcard(uri: string, url: URL): boolean {
  return uri.includes('*') || `${url.hostname}${decodeURIComponentSafe(url.pathname)}`.includes('*');
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Why `uri` may not be registered, or null when it may. */
export function uriProblem(uri: string): string | null {
  const url = URL.parse(uri);
  if (!url) return `"${uri}" is not an absolute URL.`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `"${uri}" must use https (plain http only on localhost, 127.0.0.1 or [::1]); ${url.protocol} URIs are refused.`;
  if (uri.includes('#')) return `"${uri}" has a fragment (#…); redirect URIs may not.`;
  if (hasWildcard(uri, url)) return `"${uri}" contains a wildcard (*); register each exact URI.`;
  if (url.username || url.password) return `"${uri}" contains credentials.`;
  if (url.protocol === 'https:') return null;
  if (LOOPBACK_HOSTS.has(url.hostname)) return null;
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
