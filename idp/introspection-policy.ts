/**
 * Who may read a token at the introspection endpoint (RFC 7662 §2.1, §4): oidc-provider's
 * `features.introspection.allowedPolicy`. Refused callers get `{ "active": false }`, as RFC 7662 §2.2 asks for
 * a token the caller "is not allowed to know about". And who may revoke one (RFC 7009 §2.1):
 * `features.revocation.allowedPolicy`.
 */
import { oidcErrors, type OidcClient, type OidcContext, type OidcToken } from './oidc.js';

/** The resource indicators (RFC 8707) a client is the resource server of: operator-set metadata `served_resources`. */
export function servedResources(client: OidcClient): string[] {
  const served = client.metadata().served_resources;
  return Array.isArray(served) ? served.filter((r): r is string => typeof r === 'string') : [];
}

/** The audiences of an access token (empty for refresh tokens and tokens without a resource). */
function audiencesOf(token: OidcToken): string[] {
  if (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials') return [];
  if (Array.isArray(token.aud)) return token.aud;
  return typeof token.aud === 'string' ? [token.aud] : [];
}

/**
 * True when `client` may see `token`: only a confidential client (one that authenticated, never
 * `token_endpoint_auth_method=none`), and only for a token issued to it, or an access token whose audience
 * is a resource the client is registered as the resource server of (`served_resources`).
 */
export async function introspectionAllowed(_ctx: OidcContext, client: OidcClient, token: OidcToken): Promise<boolean> {
  if (!client.clientAuthMethod || client.clientAuthMethod === 'none') return false;
  if (token.clientId === client.clientId) return true;
  const served = servedResources(client);
  return audiencesOf(token).some((aud) => served.includes(aud));
}

/**
 * True when `client` may revoke `token` (RFC 7009 §2.1: the server "verifies whether the token was issued to the
 * client making the revocation request"): only its own tokens. For another client's token a public client gets
 * 200 with nothing revoked (it may not learn whose the token is), a confidential one `400 invalid_request` —
 * oidc-provider's default, stated here so the policy is ours, not a default that asks to be changed.
 * @throws oidc-provider's `InvalidRequest` for a confidential client presenting another client's token.
 */
export async function revocationAllowed(_ctx: OidcContext, client: OidcClient, token: OidcToken): Promise<boolean> {
  if (token.clientId === client.clientId) return true;
  if (!client.clientAuthMethod || client.clientAuthMethod === 'none') return false;
  throw new oidcErrors.InvalidRequest('client is not authorized to revoke the presented token');
}
