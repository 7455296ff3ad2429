/**
 * oidc-provider's `loadExistingGrant`: which grant (OAuth's word for what the End-User allowed a client)
 * an authorization request resumes. First-party clients (client metadata `first_party: true`) are the
 * operator's own applications: their grant is created or widened to what they ask, so consent is never
 * prompted. Every other client keeps oidc-provider's behaviour and gets our consent page.
 *
 * Offline access (OIDC Core §11): oidc-provider drops `offline_access` from a request without
 * `prompt=consent`, as the spec asks unless "other conditions permitting offline access are in place". Being
 * first-party is that condition here: the scope is kept for first-party clients, their grant holds it, and
 * `issueRefreshToken` issues a refresh token for it. Other clients still need `prompt=consent` and our page.
 */
import type { ActingOrganizations } from './acting-organization.js';
import type { OidcClient, OidcContext, OidcGrant, OidcToken } from './oidc.js';

const OFFLINE_ACCESS = 'offline_access';

/** True for clients registered with `first_party: true`. */
export function isFirstParty(client: OidcClient | undefined): boolean {
  return client?.metadata().first_party === true;
}

/** Adds to `grant` every scope, claim and resource scope the current request asks for. */
function grantRequested(ctx: OidcContext, grant: OidcGrant): void {
  const { oidc } = ctx;
  const scopes = [...oidc.requestParamOIDCScopes];
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers)) {
    const allowed = [...oidc.requestParamScopes].filter((scope) => resourceServer.scopes.has(scope));
    if (allowed.length) grant.addResourceScope(indicator, allowed.join(' '));
  }
}

/** The `scope` parameter as the client sent it in the query (GET) or form body (POST) of the authorization request. */
function scopeAsSent(ctx: OidcContext): string[] {
  const raw = ctx as unknown as { query?: Record<string, unknown>; oidc: { body?: Record<string, unknown> } };
  const scope = raw.oidc.body?.scope ?? raw.query?.scope;
  return typeof scope === 'string' ? scope.split(' ') : [];
}

/**
 * Puts back `offline_access` that oidc-provider removed from a first-party client's authorization request
 * (it keeps it only with `prompt=consent`). Configured as the `extraParams` validator of `scope`, which
 * oidc-provider runs after its own parameter checks. Only at the authorization endpoint: the interaction
 * saves the parameters, and the resumed request uses them as they are. A pushed (PAR) request or a signed
 * request object keeps oidc-provider's rule (`prompt=consent`).
 */
export function keepOfflineAccess(ctx: OidcContext, _value: unknown, client: OidcClient): void {
  const params = ctx.oidc.params as { scope?: string } | undefined;
  if (ctx.oidc.route !== 'authorization' || !params || !isFirstParty(client) || !client.grantTypeAllowed('refresh_token')) return;
  const scopes = params.scope?.split(' ') ?? [];
  if (!scopes.includes(OFFLINE_ACCESS) && scopeAsSent(ctx).includes(OFFLINE_ACCESS)) params.scope = [...scopes, OFFLINE_ACCESS].join(' ');
}

/**
 * oidc-provider's `issueRefreshToken(ctx, client, source)`: a refresh token is issued when the client may use
 * the `refresh_token` grant and the code (or device code) carries `offline_access`, which the grant holds —
 * granted on our consent page, or implied for a first-party client (OIDC Core §11). A public client
 * (`token_endpoint_auth_method=none`, registered with refresh allowed) gets one only when the token request
 * carried a DPoP proof: its access token is then DPoP-bound and oidc-provider binds the refresh token to the
 * same key (RFC 9449 §5, RFC 9700 §4.14.2), so a stolen refresh token is useless without the private key.
 */
export async function issueRefreshToken(ctx: OidcContext, client: OidcClient, source: { scopes: Set<string> }): Promise<boolean> {
  if (!client.grantTypeAllowed('refresh_token') || !source.scopes.has(OFFLINE_ACCESS)) return false;
  if (client.clientAuthMethod === 'none' && !(ctx.oidc.entities.AccessToken as { jkt?: string } | undefined)?.jkt) return false;
  const grant = ctx.oidc.entities.Grant as unknown as OidcGrant | undefined;
  return grant ? grant.getOIDCScope().split(' ').includes(OFFLINE_ACCESS) : false;
}

/**
 * The refresh token a token request presented again after it was rotated (RFC 9700 §4.14.2): oidc-provider
 * then revokes the grant (sequential reuse), or the adapter does when two requests raced with one token
 * (storage's conditional consume, whose error says `already_consumed`). The adapter consumes the presented token
 * when it saves the rotated one, so a lost race fails after oidc-provider recorded the rotation: the presented
 * token is then `RotatedRefreshToken`. Undefined when the request is no reuse.
 */
export function reusedRefreshToken(ctx: OidcContext, error: { reason?: unknown }): OidcToken | undefined {
  const { entities } = ctx.oidc;
  if (ctx.oidc.route !== 'token' || (ctx.oidc.params as { grant_type?: unknown } | undefined)?.grant_type !== 'refresh_token') return undefined;
  if (error.reason === 'already_consumed') return entities.RotatedRefreshToken ?? entities.RefreshToken;
  const presented = entities.RefreshToken;
  if (!presented || entities.RotatedRefreshToken) return undefined;
  return presented.consumed ? presented : undefined;
}

/**
 * RP-initiated logout ends the grants of the session it ends, offline ones included: oidc-provider keeps a
 * grant whose refresh token does not expire with the session (`persistsLogout`), and we revoke it here.
 * @returns the grant ids revoked.
 */
export async function revokeOfflineGrants(ctx: OidcContext): Promise<string[]> {
  const { provider, session } = ctx.oidc;
  const offline = Object.values(session?.authorizations ?? {}).filter((a) => a.persistsLogout && a.grantId).map((a) => a.grantId!);
  for (const grantId of offline) {
    await provider.RefreshToken.revokeByGrantId(grantId);
    await (await provider.Grant.find(grantId))?.destroy();
  }
  return offline;
}

/** Creates `loadExistingGrant`; it also records the acting organization when a login resumes. */
export function createLoadExistingGrant(actingOrganizations: ActingOrganizations) {
  return async function loadExistingGrant(ctx: OidcContext): Promise<OidcGrant | undefined> {
    await actingOrganizations.recordFromResult(ctx);
    const { oidc } = ctx;
    const client = oidc.client!;
    const consent = oidc.result?.consent as { grantId?: string } | undefined;
    const grantId = consent?.grantId ?? oidc.session?.grantIdFor(client.clientId);
    const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!isFirstParty(client) || !oidc.session?.accountId) return existing;
    const grant = existing ?? new oidc.provider.Grant({ accountId: oidc.session.accountId, clientId: client.clientId });
    grantRequested(ctx, grant);
    await grant.save();
    return grant;
  };
}

/** Widens `grant` by what the consent prompt found missing (`interaction.prompt.details`). */
export function grantMissing(grant: OidcGrant, details: Record<string, unknown>): void {
  const scopes = details.missingOIDCScope as string[] | undefined;
  const claims = details.missingOIDCClaims as string[] | undefined;
  const resources = details.missingResourceScopes as Record<string, string[]> | undefined;
  if (scopes?.length) grant.addOIDCScope(scopes.join(' '));
  if (claims?.length) grant.addOIDCClaims(claims);
  for (const [indicator, resourceScopes] of Object.entries(resources ?? {})) grant.addResourceScope(indicator, resourceScopes.join(' '));
}
