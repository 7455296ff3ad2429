/**
 * Accounts as oidc-provider sees them: `findAccount` and the claims of each scope (OIDC Core §5.4), plus
 * the extra claims of JWT access tokens for the portal API (RFC 9068 §2.2.3.1).
 */
import type { AccountView, Identity, MembershipWithOrganization } from '../identity/index.js';
import type { ActingOrganizations } from './acting-organization.js';
import type { OidcContext, OidcToken } from './oidc.js';

/**
 * Scopes and the claims each releases. `amr` (RFC 8176: `pwd`, `otp`, `mfa`) and `auth_time` come from the
 * login, so they appear in the ID token only; `organization` is the acting organization's membership.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub', 'amr', 'auth_time'],
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
  return {
    organization: { id: organization.id, name: organization.name, participant_ids: [...organization.participantIds] },
    functions: [...membership.functions],
  };
}

/** Creates oidc-provider's `findAccount` and `extraTokenClaims`. */
export function createAccountClaims(identity: Identity, actingOrganizations: ActingOrganizations, portalApi: string) {
  /** The account when it may still sign in and use tokens: suspended and closed accounts are not found. */
  async function findActive(accountId: string): Promise<AccountView | undefined> {
    const view = await identity.accounts.findAccount(accountId);
    return view && view.account.status === 'active' ? view : undefined;
  }

  return {
    /**
     * `findAccount(ctx, sub, token)`: `token` is the code, access or refresh token at the token and userinfo
     * endpoints, undefined at the authorization endpoint.
     */
    async findAccount(ctx: OidcContext, sub: string, token?: OidcToken): Promise<OidcAccount | undefined> {
      const view = await findActive(sub);
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

    /** Adds the acting organization and its functions to portal API access tokens with scope `organization`. */
    async extraTokenClaims(ctx: OidcContext, token: OidcToken): Promise<Record<string, unknown> | undefined> {
      const scopes = token.scope?.split(' ') ?? [];
      if (token.resourceServer?.identifier() !== portalApi || !token.accountId || !scopes.includes('organization')) return undefined;
      const view = await findActive(token.accountId);
      return view ? organizationClaims(await actingOrganizations.resolve(ctx, view, token)) : undefined;
    },
  };
}
