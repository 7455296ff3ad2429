/**
 * Restarting a stale sign-in (design/domain.md rule 2: a bookmarked or stale sign-in page must not strand
 * the user). The browser goes to the client's `initiate_login_uri` (OIDC Core §4, with `iss`) so the
 * application starts a fresh authorization request; when the client is unknown, to the IdP home page, which
 * says the page expired and lists the applications.
 */
import type { Provider } from './oidc.js';

/** One application on the home page. */
export interface Application {
  name: string;
  initiateLoginUri: string;
}

/** Third-party login initiation URL: `initiate_login_uri` with the `iss` parameter (OIDC Core §4). */
export function loginInitiationUrl(initiateLoginUri: string, issuer: string): string {
  const url = new URL(initiateLoginUri);
  url.searchParams.set('iss', issuer);
  return url.href;
}

/**
 * Creates the function that answers where a stale sign-in of `clientId` (when known) restarts.
 * @param homePath - the IdP home page, e.g. `/`.
 */
export function createRestart(homePath: string) {
  return async function restartUrl(provider: Provider, clientId: unknown): Promise<string> {
    const client = typeof clientId === 'string' && clientId ? await provider.Client.find(clientId).catch(() => undefined) : undefined;
    if (client?.initiateLoginUri) return loginInitiationUrl(client.initiateLoginUri, provider.issuer);
    return `${homePath}?expired=1`;
  };
}

/** Where a stale sign-in restarts. */
export type RestartUrl = ReturnType<typeof createRestart>;
