/**
 * oidc-provider's `loadExistingGrant`: which grant (OAuth's word for what the End-User allowed a client)
 * an authorization request resumes. First-party clients (client metadata `first_party: true`) are the
 * operator's own applications: their grant is created or widened to what they ask, so consent is never
 * prompted. Every other client keeps oidc-provider's behaviour and gets our consent page.
 */
import type { ActingOrganizations } from './acting-organization.js';
import type { OidcClient, OidcContext, OidcGrant } from './oidc.js';

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
