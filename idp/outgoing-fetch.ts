/**
 * oidc-provider's `fetch` option: how the IdP makes outgoing requests (here only back-channel logout tokens,
 * OIDC Back-Channel Logout 1.0 §2.5). oidc-provider passes a `dispatcher` that destroys any connection to a
 * special-use address (loopback, private, link-local, …), so a logout URI cannot point the IdP at an internal
 * service (server-side request forgery, ASVS V15). That guard stays on, except for the hosts the operator lists
 * in `BACKCHANNEL_LOGOUT_ALLOWED_HOSTS` — portals that really live on loopback or a private network. The
 * 2.5-second timeout oidc-provider sets applies either way.
 */

/** What oidc-provider passes to `fetch`: standard options plus its guarded undici `dispatcher`. */
export type ProviderFetchOptions = RequestInit & { dispatcher?: unknown };

/** The port a URL connects to: its explicit port, or the scheme's default. */
function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

/**
 * Whether `url` is on one of `allowedHosts` (lower-case `host`, any port, or `host:port`).
 * @example isAllowedHost(new URL('http://127.0.0.1:3001/x'), ['127.0.0.1:3001']) // true
 */
export function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  return allowedHosts.includes(host) || allowedHosts.includes(`${host}:${portOf(url)}`);
}

/**
 * Builds the `fetch` for oidc-provider's configuration: requests to `allowedHosts` go out without the
 * special-use-address guard, every other request keeps it (and fails with "hostname resolves to a
 * special-use IP address" when the name resolves to such an address).
 * @param allowedHosts - `Config.backchannelLogoutAllowedHosts`.
 */
export function createOutgoingFetch(allowedHosts: readonly string[]): (url: string | URL, options: ProviderFetchOptions) => Promise<Response> {
  return (url, options) => {
    const target = new URL(url);
    if (!isAllowedHost(target, allowedHosts)) return globalThis.fetch(target, options);
    const { dispatcher: _specialUseGuard, ...rest } = options;
    return globalThis.fetch(target, rest);
  };
}
