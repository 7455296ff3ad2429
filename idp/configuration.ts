/**
 * The oidc-provider configuration, in production mode (design/security.md §7): no devInteractions, keys
 * and cookie keys injected, `code` only, PKCE (S256) for every client, our own pages, TTLs from config.
 */
import type { JWK } from 'jose';
import type { Config } from '../lib/index.js';
import { SCOPE_CLAIMS, type createAccountClaims } from './account-claims.js';
import { accountClientMetadata } from './account/account-client.js';
import { issueRefreshToken, keepOfflineAccess } from './grants.js';
import { stepUrls } from './interaction-urls.js';
import { introspectionAllowed, revocationAllowed } from './introspection-policy.js';
import { oidcErrors, type OidcAdapterFactory, type OidcClient, type OidcContext, type OidcInteraction } from './oidc.js';
import { createOutgoingFetch } from './outgoing-fetch.js';
import { ECP_SFTP_RESOURCE, sftpResourceServerInfo } from './sftp-authorization.js';
import type { createProviderPages } from './provider-pages.js';
import { interactionPolicy, sessionTtl } from './session-lifetime.js';
import { withPhishingResistantCheck } from './interactions/passkey-acr.js';
import { PHISHING_RESISTANT_ACR } from '../identity/index.js';

/** The resource indicator (RFC 8707) of the portal API: its access tokens are JWTs (RFC 9068). */
export const PORTAL_API = 'urn:connect-iam:portal-api';

/** Scopes a portal API access token may carry; `organization` adds the acting organization and functions. */
export const PORTAL_API_SCOPES = 'organization';

/** Everything the configuration is assembled from. */
export interface ConfigurationParts {
  config: Config;
  adapter: OidcAdapterFactory;
  jwks: { keys: JWK[] };
  basePath: string;
  accountClaims: ReturnType<typeof createAccountClaims>;
  pages: ReturnType<typeof createProviderPages>;
  loadExistingGrant: (ctx: OidcContext) => Promise<unknown>;
}

/** Allows CORS only from the origins of the client's own redirect URIs (and never from `null`). */
function clientBasedCORS(_ctx: OidcContext, origin: string, client: OidcClient): boolean {
  return origin !== 'null' && client.redirectUris.some((uri) => URL.parse(uri)?.origin === origin);
}

/**
 * Client metadata of our own, set by the operator's registration (storage/client-store.ts):
 * `first_party` (boolean, default false), and for service clients `service_organization` (the organization
 * id it acts for) and `service_functions` (function names); `served_resources` (resource indicators the
 * client is the resource server of, for introspection).
 */
const EXTRA_CLIENT_METADATA = ['first_party', 'service_organization', 'service_functions', 'served_resources'];

const isStringArray = (value: unknown) => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Checks the types of {@link EXTRA_CLIENT_METADATA}; `first_party` absent means false. */
function validateExtraClientMetadata(_ctx: unknown, key: string, value: unknown, metadata: Record<string, unknown>): void {
  if (key === 'first_party') {
    if (value === undefined) metadata.first_party = false;
    else if (typeof value !== 'boolean') throw new oidcErrors.InvalidClientMetadata('first_party must be a boolean');
  } else if (key === 'service_organization') {
    if (value !== undefined && typeof value !== 'string') throw new oidcErrors.InvalidClientMetadata('service_organization must be a string');
  } else if (value !== undefined && !isStringArray(value)) {
    throw new oidcErrors.InvalidClientMetadata(`${key} must be an array of strings`);
  }
}

/** True for a service client (`client_credentials`): it acts for an organization, not for a person. */
export function isServiceClient(client: OidcClient | undefined): boolean {
  return typeof client?.metadata().service_organization === 'string';
}

/**
 * The resource server behind a resource indicator (RFC 8707), as oidc-provider's `getResourceServerInfo` returns
 * it: the portal API gets JWT access tokens (RFC 9068, verified with the JWKS by portal-adapters' `verifyBearer`);
 * each of `INTROSPECTED_RESOURCES` gets opaque ones, stored and so revocable, which its API reads at the
 * introspection endpoint (RFC 7662) and sees inactive as soon as they or their grant are revoked. Both allow the
 * `organization` scope (the acting organization and its functions). TTL: `ACCESS_TOKEN_TTL_SECONDS`.
 * @throws oidc-provider's `InvalidTarget` for any other indicator.
 */
export function resourceServerInfo(config: Config, indicator: string): Record<string, unknown> {
  const accessTokenTTL = config.ttl.accessTokenSeconds;
  if (indicator === PORTAL_API) return { scope: PORTAL_API_SCOPES, audience: PORTAL_API, accessTokenTTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
  if (config.introspectedResources.includes(indicator)) return { scope: PORTAL_API_SCOPES, audience: indicator, accessTokenTTL, accessTokenFormat: 'opaque' };
  throw new oidcErrors.InvalidTarget();
}

/** Builds the object passed to `new Provider(issuer, configuration)`. */
export function createConfiguration(parts: ConfigurationParts): Record<string, unknown> {
  const { config, pages, accountClaims } = parts;
  const { ttl } = config;
  return {
    adapter: parts.adapter,
    jwks: parts.jwks,
    // The account page's own client, for re-authentication before a factor changes (idp/account/reauthentication.ts).
    clients: [accountClientMetadata(config.issuer)],
    cookies: {
      keys: config.cookieKeys,
      // The session cookie is scoped to the issuer's path (`/idp` for `https://portal.example.com/idp`); the
      // interaction cookies get their own paths from oidc-provider.
      long: { signed: true, httpOnly: true, sameSite: 'lax', path: parts.basePath || '/' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    // Honest discovery: only the methods a client can be registered for (storage/client-authentication.ts). No
    // client_secret_jwt, so no HMAC algorithms for client assertions; private_key_jwt signs with these (RFC 7523).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    enabledJWA: { clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'] },
    clientBasedCORS,
    // Outgoing requests keep oidc-provider's special-use-address guard, except to BACKCHANNEL_LOGOUT_ALLOWED_HOSTS.
    fetch: createOutgoingFetch(config.backchannelLogoutAllowedHosts),
    scopes: ['openid', 'offline_access', ...Object.keys(SCOPE_CLAIMS).filter((s) => s !== 'openid')],
    // Scope claims go in the ID token too, not only at userinfo.
    claims: Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    conformIdTokenClaims: false,
    extraClientMetadata: { properties: EXTRA_CLIENT_METADATA, validator: validateExtraClientMetadata },
    // Runs after oidc-provider's own checks of the authorization request: first-party clients keep offline_access.
    extraParams: { scope: keepOfflineAccess },
    // Refresh tokens: for offline_access that the grant holds (idp/grants.ts), rotated on every use (RFC 9700 §4.14.2).
    issueRefreshToken,
    rotateRefreshToken: true,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource },
      // OIDC Back-Channel Logout 1.0: clients may register `backchannel_logout_uri`; RP-initiated logout posts a
      // logout token to each of the session's other clients, and idp/back-channel-logout.ts does so on suspension.
      backchannelLogout: { enabled: true },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      userinfo: { enabled: true },
      // Service clients (client metadata service_organization) get portal API tokens for their organization (RFC 6749 §4.4).
      clientCredentials: { enabled: true },
      // RFC 7662, for confidential clients: their own tokens, and access tokens for a resource they serve.
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      resourceIndicators: {
        enabled: true,
        // A service client's token is for the portal API even when it names no resource.
        defaultResource: (_ctx: OidcContext, client: OidcClient) => (isServiceClient(client) ? PORTAL_API : undefined),
        // The SFTP authorization API's tokens go only to registered SFTP gateways (idp/sftp-authorization.ts).
        getResourceServerInfo: (_ctx: OidcContext, indicator: string, client: OidcClient) =>
          indicator === ECP_SFTP_RESOURCE ? sftpResourceServerInfo(client, config.ttl.accessTokenSeconds) : resourceServerInfo(config, indicator),
      },
    },
    // OIDC Core §2 acr: `phr` (phishing-resistant, OpenID EAP ACR Values 1.0) for a sign-in with a passkey; other
    // sign-ins carry none. `acr_values=phr` is honoured by the login prompt's check (idp/interactions/passkey-acr.ts).
    acrValues: [PHISHING_RESISTANT_ACR],
    findAccount: accountClaims.findAccount,
    extraTokenClaims: accountClaims.extraTokenClaims,
    loadExistingGrant: parts.loadExistingGrant,
    interactions: {
      url: (_ctx: OidcContext, interaction: OidcInteraction) => stepUrls(parts.basePath, interaction.uid, interaction.params.client_id).show,
      // A sign-in older than SESSION_MAX_AGE_SECONDS needs the sign-in pages again (idp/session-lifetime.ts), and so
      // does one without a passkey when acr_values asks for phr (idp/interactions/passkey-acr.ts).
      policy: withPhishingResistantCheck(interactionPolicy(ttl.sessionMaxAgeSeconds)),
    },
    renderError: pages.renderError,
    ttl: {
      AccessToken: ttl.accessTokenSeconds,
      ClientCredentials: ttl.accessTokenSeconds,
      AuthorizationCode: 60,
      IdToken: ttl.idTokenSeconds,
      RefreshToken: ttl.refreshTokenSeconds,
      Interaction: ttl.interactionSeconds,
      // Idle timeout, never past the absolute lifetime from the sign-in (idp/session-lifetime.ts).
      Session: sessionTtl({ idleSeconds: ttl.sessionSeconds, maxAgeSeconds: ttl.sessionMaxAgeSeconds }),
      Grant: Math.max(ttl.sessionSeconds, ttl.refreshTokenSeconds),
    },
  };
}
