/**
 * Where to go after sign-in. Only a same-origin path is accepted, so `returnTo` can never send a person to
 * another site (open redirect, OWASP ASVS 5.0 V3.7 / OAuth 2.0 Security BCP, RFC 9700 §4.11).
 *
 * The check runs on the *normalised* path, the one the `Location` header will carry: the WHATWG URL parser,
 * which browsers also use, collapses dot segments (`/.//evil`, `/a/..//evil`, `/%2e//evil` all become
 * `//evil`), so a check on the raw string alone can be walked around.
 */

const BASE = 'https://return-to.invalid';
const UNSAFE_CHARACTERS = /[\\\u0000-\u001f\u007f]/;

/**
 * True when `path` is a path-only reference that a browser resolves on the page's own origin: it starts with
 * one `/` (not `//`), has no backslash or control character, and reading it again gives the same path.
 */
function staysOnOrigin(path: string): boolean {
  if (!path.startsWith('/') || path.startsWith('//') || UNSAFE_CHARACTERS.test(path)) return false;
  try {
    const url = new URL(path, BASE);
    return url.origin === BASE && `${url.pathname}${url.search}${url.hash}` === path;
  } catch {
    return false;
  }
}

/**
 * True when the path still stays on the origin once percent-decoded, for servers and proxies that decode
 * `%2f` and `%5c` before they redirect (`/%2f%2fevil`, `/%5cevil`). Undecodable paths are refused.
 */
function staysOnOriginDecoded(pathname: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (decoded === pathname) return true;
  if (!decoded.startsWith('/') || decoded.startsWith('//') || UNSAFE_CHARACTERS.test(decoded)) return false;
  try {
    const url = new URL(decoded, BASE);
    return url.origin === BASE && !url.pathname.startsWith('//');
  } catch {
    return false;
  }
}

/**
 * Returns `value` normalised (`/path?query#fragment`, dot segments removed) when it is a same-origin path,
 * otherwise `<basePath>/`. Refused: absolute and scheme-relative URLs (`//evil`, `/\evil`, `/.//evil`, `/%2e//evil`),
 * anything that is not a path (`javascript:`, `evil`), backslashes, tabs, newlines and other control
 * characters, paths that decode to one of those (`/%2f%2fevil`, `/%5cevil`), values over 2048 characters,
 * and the adapter's own `<basePath>/auth/` routes (`basePath`: the path of `baseUrl`, `''` at the root). The result passed through again comes out unchanged.
 */
export function safeReturnTo(value: unknown, basePath = ''): string {
  const home = `${basePath}/`;
  if (typeof value !== 'string' || value.length > 2048) return home;
  if (!value.startsWith('/') || value.startsWith('//') || UNSAFE_CHARACTERS.test(value)) return home;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return home;
  }
  if (url.origin !== BASE || url.username !== '' || url.password !== '') return home;
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (!staysOnOrigin(path) || !staysOnOriginDecoded(url.pathname)) return home;
  if (url.pathname.startsWith(`${basePath}/auth/`)) return home;
  return path;
}

/**
 * The path of `target` when it is an absolute URL on `baseUrl`'s origin (OIDC Core §4 `target_link_uri`,
 * which the RP must verify), checked again by {@link safeReturnTo}; otherwise `<basePath>/` (the path of `baseUrl`).
 */
export function returnToFromTarget(target: unknown, baseUrl: string): string {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  if (typeof target !== 'string' || target.length > 2048 || UNSAFE_CHARACTERS.test(target)) return `${basePath}/`;
  try {
    const url = new URL(target);
    return url.origin === base.origin ? safeReturnTo(`${url.pathname}${url.search}${url.hash}`, basePath) : `${basePath}/`;
  } catch {
    return `${basePath}/`;
  }
}
