/** Request paths as the IdP logs them. */

/**
 * The request path as logged: the secret token of a password link (`/password/reset/<token>` and the like)
 * is replaced by `[token]`, so a refused or failed request on that page never writes a live link to the logs.
 */
export function loggedPath(path: string): string {
  return path.replace(/^(\/password\/[a-z-]+\/)[^/]+/, '$1[token]');
}
