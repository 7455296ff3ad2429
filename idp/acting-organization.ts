/**
 * The acting organization: which of an account's memberships a sign-in acts for.
 *
 * How it travels (every instance is stateless, so it lives in PostgreSQL):
 * 1. The organization page finishes the login interaction with the choice in the interaction result,
 *    next to `login` ({@link ACTING_ORGANIZATION_RESULT}); the result is persisted on the Interaction.
 * 2. On resume (`/auth/:uid`) oidc-provider logs the account into its Session and calls our
 *    `loadExistingGrant(ctx)` with `ctx.oidc.result` (that result) and `ctx.oidc.session.uid`. There we save
 *    `{ accountId, organizationId }` as model `ActingOrganization`, keyed by the session uid, through the same
 *    adapter class oidc-provider uses (`new Adapter('ActingOrganization')`), before any code is issued.
 * 3. Every code, access and refresh token oidc-provider issues for that session carries `sessionUid`, and
 *    `findAccount(ctx, sub, token)` receives that token at the token and userinfo endpoints (and the
 *    session at the authorization endpoint). Claims look the choice up by that uid. SSO into a second
 *    client reuses the same session, so it gets the same organization.
 * A later login in the same session (prompt=login) overwrites the choice. Without a record, an account with
 * exactly one membership acts for it; one with several gets no organization claims.
 *
 * Round trips: an account with at most one membership needs no record (the answer is the same either way), so
 * none is read; otherwise the record is read once per request (memoized per `ctx`, nothing outlives it).
 */
import type { AccountView, MembershipWithOrganization } from '../identity/index.js';
import type { OidcAdapter, OidcAdapterFactory, OidcContext, OidcToken } from './oidc.js';

/** Key of the choice in the interaction result (`interactionFinished(req, res, { login, [key]: id })`). */
export const ACTING_ORGANIZATION_RESULT = 'urn:connect-iam:acting_organization';

/** The stored record. */
interface ActingOrganizationRecord {
  accountId: string;
  organizationId: string;
}

/** Reads and writes the acting organization of IdP sessions. */
export interface ActingOrganizations {
  /** At resume: stores the choice of the finished login interaction for the session. No-op otherwise. */
  recordFromResult(ctx: OidcContext): Promise<void>;
  /** The membership `account` acts for in the session the token (or the current request) belongs to. */
  resolve(ctx: OidcContext, view: AccountView, token: OidcToken | undefined): Promise<MembershipWithOrganization | undefined>;
}

/** Instantiates an adapter the way oidc-provider does: `new` when it has a prototype (a class), else a call. */
export function adapterFor(Adapter: OidcAdapterFactory, modelName: string): OidcAdapter {
  return typeof Adapter.prototype === 'object' && Adapter.prototype !== null
    ? new (Adapter as new (name: string) => OidcAdapter)(modelName)
    : (Adapter as (name: string) => OidcAdapter)(modelName);
}

/**
 * @param ttlSeconds - how long a record outlives its last write: the longest of session and refresh token lifetimes.
 */
export function createActingOrganizations(Adapter: OidcAdapterFactory, ttlSeconds: number): ActingOrganizations {
  const records = adapterFor(Adapter, 'ActingOrganization');
  /** Records read or written in this request, by session uid. */
  const recordsOfRequest = new WeakMap<OidcContext, Map<string, Promise<ActingOrganizationRecord | undefined>>>();
  function memo(ctx: OidcContext): Map<string, Promise<ActingOrganizationRecord | undefined>> {
    let found = recordsOfRequest.get(ctx);
    if (!found) recordsOfRequest.set(ctx, (found = new Map()));
    return found;
  }
  function find(ctx: OidcContext, sessionUid: string): Promise<ActingOrganizationRecord | undefined> {
    const known = memo(ctx);
    let loading = known.get(sessionUid);
    if (!loading) {
      loading = records.find(sessionUid).then((r) => (r ?? undefined) as ActingOrganizationRecord | undefined);
      known.set(sessionUid, loading);
      loading.catch(() => known.delete(sessionUid));
    }
    return loading;
  }
  return {
    async recordFromResult(ctx) {
      const organizationId = ctx.oidc.result?.[ACTING_ORGANIZATION_RESULT];
      const session = ctx.oidc.session;
      if (ctx.oidc.route !== 'resume' || typeof organizationId !== 'string' || !session?.accountId) return;
      const record: ActingOrganizationRecord = { accountId: session.accountId, organizationId };
      await records.upsert(session.uid, record, ttlSeconds);
      memo(ctx).set(session.uid, Promise.resolve(record));
    },
    async resolve(ctx, view, token) {
      if (view.memberships.length <= 1) return view.memberships[0];
      const sessionUid = token ? token.sessionUid : ctx.oidc.session?.uid;
      const record = sessionUid ? await find(ctx, sessionUid) : undefined;
      if (record?.accountId === view.account.id) {
        const chosen = view.memberships.find((m) => m.organizationId === record.organizationId);
        if (chosen) return chosen;
      }
      return view.memberships.length === 1 ? view.memberships[0] : undefined;
    },
  };
}
