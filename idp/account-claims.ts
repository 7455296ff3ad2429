/**
 * Accounts as oidc-provider sees them: `findAccount` and the claims of each scope (OIDC Core §5.4), plus
 * the extra claims of JWT access tokens for the portal API (RFC 9068 §2.2.3.1).
 */
import type { AccountView, Identity, MembershipWithOrganization, Organization } from '../identity/index.js';
import { isFunctionName } from '../policies/index.js';
import type { ActingOrganizations } from './acting-organization.js';
import { oidcErrors, type OidcContext, type OidcToken } from './oidc.js';

/**
 * Scopes and the claims each releases. `amr` (RFC 8176: `pwd`, `otp`, `mfa`, …), `acr` (`phr` after a passkey,
 * OIDC Core §2) and `auth_time` come from the login, so they appear in the ID token only; `organization` is the
 * acting organization's membership.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub', 'amr', 'acr', 'auth_time'],
  profile: ['name'],
  email: ['email', 'email_verified'],
  organization: ['organization', 'functions'],
} as const;

/** What oidc-provider calls an account. */
export interface OidcAccount {
  accountId: string;
  claims(use: string, scope: string): Promise<Record<string, unknown>>;
}

/** The `organization` and `functions` claims of a membership (absent when the sign-in acts for none). */
export function organizationClaims(membership: MembershipWithOrganization | undefined): Record<string, unknown> {
  if (!membership) return {};
  const { organization } = membership;
  return { organization: organizationClaim(organization), functions: [...membership.functions] };
}

/** The `organization` claim of an organization, as in {@link organizationClaims}. */
function organizationClaim(organization: Organization): Record<string, unknown> {
  return { id: organization.id, name: organization.name, participant_ids: [...organization.participantIds] };
}

/**
 * `auth_time`, `amr` and (when one was set) `acr` of the sign-in behind an access token, from the code or
 * refresh token it was issued for (RFC 9068 §2.2.1), so an API can demand e.g. `swk` without calling userinfo.
 */
function authenticationClaims(ctx: OidcContext): Record<string, unknown> {
  const { entities } = ctx.oidc;
  const source = entities.AuthorizationCode ?? entities.RefreshToken;
  if (!source) return {};
  return {
    ...(typeof source.authTime === 'number' ? { auth_time: source.authTime } : {}),
    ...(Array.isArray(source.amr) && source.amr.length ? { amr: [...source.amr] } : {}),
    ...(typeof source.acr === 'string' && source.acr ? { acr: source.acr } : {}),
  };
}

/**
 * Creates oidc-provider's `findAccount` and `extraTokenClaims`.
 *
 * The account view is loaded once per request: oidc-provider hands the same Koa `ctx` to `findAccount`, to the
 * account's `claims()` and to `extraTokenClaims`, so the view (one statement, `AccountStore.findView`) is kept
 * in a WeakMap keyed by that `ctx`. Nothing outlives the request: the next request reads the account again, so a
 * suspension or a removed function takes effect at once (design/security.md §9).
 * @param organizationResources - resource indicators whose access tokens carry `organization` and `functions` for
 *   the `organization` scope: the portal API and `INTROSPECTED_RESOURCES`.
 */
export function createAccountClaims(identity: Identity, actingOrganizations: ActingOrganizations, organizationResources: readonly string[]) {
  const viewsOfRequest = new WeakMap<OidcContext, Map<string, Promise<AccountView | null>>>();

  /** The account when it may still sign in and use tokens: suspended and closed accounts are not found. */
  async function findActive(ctx: OidcContext, accountId: string): Promise<AccountView | undefined> {
    let views = viewsOfRequest.get(ctx);
    if (!views) viewsOfRequest.set(ctx, (views = new Map()));
    let loading = views.get(accountId);
    if (!loading) {
      loading = identity.accounts.findAccount(accountId);
      views.set(accountId, loading);
      loading.catch(() => views.delete(accountId));
    }
    const view = await loading;
    return view && view.account.status === 'active' ? view : undefined;
  }

  /** The organization and functions of the service client making a `client_credentials` request. */
  async function serviceClaims(ctx: OidcContext): Promise<Record<string, unknown> | undefined> {
    const metadata = ctx.oidc.client?.metadata() ?? {};
    const organizationId = metadata.service_organization;
    if (typeof organizationId !== 'string') return undefined;
    const organization = await identity.organizations.getOrganization(organizationId).catch((error: { code?: string }) => {
      if (error.code === 'not_found') return null;
      throw error;
    });
    if (organization?.id !== organizationId) throw new oidcErrors.UnauthorizedClient('the organization of this service client no longer exists');
    const functions = Array.isArray(metadata.service_functions) ? metadata.service_functions.filter((f): f is string => typeof f === 'string' && isFunctionName(f)) : [];
    return { organization: organizationClaim(organization), functions };
  }

  return {
    /**
     * `findAccount(ctx, sub, token)`: `token` is the code, access or refresh token at the token and userinfo
     * endpoints, undefined at the authorization endpoint.
     */
    async findAccount(ctx: OidcContext, sub: string, token?: OidcToken): Promise<OidcAccount | undefined> {
      const view = await findActive(ctx, sub);
      if (!view) return undefined;
      return {
        accountId: sub,
        async claims() {
          const { account } = view;
          const membership = await actingOrganizations.resolve(ctx, view, token);
          // The email was proven at this sign-in: its one-time code went to that address.
          return { sub, name: account.name, email: account.email, email_verified: true, ...organizationClaims(membership) };
        },
      };
    },

    /**
     * Claims added to access tokens. A person's: `auth_time`, `amr` (and `acr`) of the sign-in, and for portal
     * API tokens with scope `organization` the acting organization and its functions. A service client's
     * (`client_credentials`): its organization and registered functions (`sub` is its client ID, RFC 9068 §2.2).
     * @throws oidc-provider's `UnauthorizedClient` when a service client's organization no longer exists.
     */
    async extraTokenClaims(ctx: OidcContext, token: OidcToken): Promise<Record<string, unknown> | undefined> {
      if (token.kind === 'ClientCredentials') return serviceClaims(ctx);
      const claims = authenticationClaims(ctx);
      const scopes = token.scope?.split(' ') ?? [];
      const resource = token.resourceServer?.identifier();
      if (resource === undefined || !organizationResources.includes(resource) || !token.accountId || !scopes.includes('organization')) return claims;
      const view = await findActive(ctx, token.accountId);
      return view ? { ...claims, ...organizationClaims(await actingOrganizations.resolve(ctx, view, token)) } : claims;
    },
  };
}
