/**
 * The account page's own OIDC client, `connect-iam-account`: a static client of oidc-provider (its `clients`
 * option), so the account page can send a person through the sign-in pages again (`prompt=login`, OIDC Core
 * §3.1.2.1) before a change to their authentication factors (reauthentication.ts).
 *
 * Its only redirect URI is the account page's `/account/signed-in` on the issuer, which never redeems the code:
 * what counts is the IdP session the sign-in renewed. The code cannot be redeemed by anyone else either, since
 * the PKCE verifier of each request is thrown away (reauthentication.ts), and it expires after 60 seconds.
 */

/** The client id of the account page. */
export const ACCOUNT_CLIENT_ID = 'connect-iam-account';

/** The path, below the IdP's base path, that the sign-in returns to. */
export const SIGNED_IN_PATH = '/account/signed-in';

/** oidc-provider client metadata of the account page's client, for `issuer` (no trailing slash). */
export function accountClientMetadata(issuer: string): Record<string, unknown> {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your account',
    redirect_uris: [`${issuer}${SIGNED_IN_PATH}`],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
    first_party: true,
  };
}
