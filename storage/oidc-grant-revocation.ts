/**
 * Revoking whole grants (OAuth's word: what an End-User allowed one client) with a tombstone in
 * `oidc_revoked_grants`, so tokens saved for the grant *after* the revocation — by a request that was
 * already running — are never found either.
 */
import { and, eq, isNotNull, max, or, sql } from 'drizzle-orm';
import type { EndedOtherSessions, EndedSessions } from '../identity/index.js';
import { addSeconds } from '../lib/index.js';
import type { Database, Db, Executor } from './database.js';
import { oidcModels, oidcRevokedGrants } from './schema.js';

/** Minimum life of a tombstone, in seconds: oidc-provider's default Grant lifetime (14 days). */
export const REVOKED_GRANT_RETENTION_SECONDS = 14 * 24 * 60 * 60;

const grantRows = (grantId: string) => or(eq(oidcModels.grantId, grantId), and(eq(oidcModels.kind, 'Grant'), eq(oidcModels.id, grantId)));

async function tombstone(tx: Executor, grantId: string, now: Date, retentionSeconds: number): Promise<void> {
  const [latest] = await tx.select({ at: max(oidcModels.expiresAt) }).from(oidcModels).where(grantRows(grantId));
  const floor = addSeconds(now, retentionSeconds);
  const expiresAt = latest?.at && latest.at > floor ? latest.at : floor;
  await tx
    .insert(oidcRevokedGrants)
    .values({ grantId, revokedAt: now, expiresAt })
    .onConflictDoUpdate({ target: oidcRevokedGrants.grantId, set: { expiresAt: sql`greatest(${oidcRevokedGrants.expiresAt}, excluded.expires_at)` } });
  await tx.delete(oidcModels).where(grantRows(grantId));
}

/**
 * Revokes a grant for good: deletes the Grant and every code and token of it, and records a tombstone that
 * lives at least `retentionSeconds` (default 14 days) and at least as long as the grant's longest-lived row.
 * Access tokens in JWT format are not stored, so they stay valid until they expire.
 */
export async function revokeGrant(database: Database, grantId: string, now: Date, retentionSeconds = REVOKED_GRANT_RETENTION_SECONDS): Promise<void> {
  await revokeGrantOn(database.db, grantId, now, retentionSeconds);
}

/** {@link revokeGrant} on a drizzle database, in one transaction. */
export async function revokeGrantOn(db: Db, grantId: string, now: Date, retentionSeconds: number): Promise<void> {
  await db.transaction((tx) => tombstone(tx, grantId, now, retentionSeconds));
}


/**
 * Ends everything an account holds at the IdP (design/security.md §9): revokes each of its grants as
 * {@link revokeGrant} does and deletes its sessions. Use when an account is suspended or closed.
 * @returns how many grants and sessions were ended, and which clients held them.
 */
export async function revokeAccountGrants(database: Database, accountId: string, now: Date, retentionSeconds = REVOKED_GRANT_RETENTION_SECONDS): Promise<EndedSessions> {
  return database.db.transaction((tx) => revokeAccountGrantsOn(tx, accountId, now, retentionSeconds));
}

/** {@link revokeAccountGrants} on `tx`, inside a transaction the caller opened (so it commits with the caller's change). */
export async function revokeAccountGrantsOn(tx: Executor, accountId: string, now: Date, retentionSeconds = REVOKED_GRANT_RETENTION_SECONDS): Promise<EndedSessions> {
  const rows = await tx
    .select({ kind: oidcModels.kind, id: oidcModels.id, grantId: oidcModels.grantId, payload: oidcModels.payload })
    .from(oidcModels)
    .where(and(eq(oidcModels.accountId, accountId), or(eq(oidcModels.kind, 'Grant'), eq(oidcModels.kind, 'Session'), isNotNull(oidcModels.grantId))));
  const grantIds = new Set(rows.filter((r) => r.kind !== 'Session').map((r) => (r.kind === 'Grant' ? r.id : r.grantId!)));
  for (const grantId of grantIds) await tombstone(tx, grantId, now, retentionSeconds);
  const sessions = await tx
    .delete(oidcModels)
    .where(and(eq(oidcModels.kind, 'Session'), eq(oidcModels.accountId, accountId)))
    .returning({ id: oidcModels.id });
  return { grants: grantIds.size, sessions: sessions.length, clients: clientsOf(rows.map((r) => r.payload)) };
}

/** The scope, and the claims, through which oidc-provider releases an account's functions (idp/account-claims' `SCOPE_CLAIMS.organization`). */
const FUNCTIONS_SCOPE = 'organization';
const FUNCTIONS_CLAIMS = ['organization', 'functions'];

/** True when a Grant payload allows the functions: `openid.scope` or a resource server's scope has `organization`, or `openid.claims` names them. */
function releasesFunctions(payload: Record<string, unknown>): boolean {
  const openid = (payload.openid ?? {}) as { scope?: unknown; claims?: unknown };
  const scopes = [openid.scope, ...Object.values((payload.resources ?? {}) as Record<string, unknown>)];
  if (scopes.some((scope) => typeof scope === 'string' && scope.split(' ').includes(FUNCTIONS_SCOPE))) return true;
  return Array.isArray(openid.claims) && openid.claims.some((claim) => FUNCTIONS_CLAIMS.includes(claim as string));
}

/**
 * Revokes, as {@link revokeGrant} does, the account's grants that release its functions (scope `organization`,
 * or the `organization`/`functions` claims requested by name), on `tx` inside a transaction the caller opened.
 * Its IdP sessions and other grants stay. Use when a membership's functions changed: the ID tokens, userinfo
 * answers and access tokens issued afterwards carry the new ones.
 * @returns the grants revoked (`sessions` 0) and the clients that held them.
 */
export async function revokeFunctionGrantsOn(tx: Executor, accountId: string, now: Date, retentionSeconds = REVOKED_GRANT_RETENTION_SECONDS): Promise<EndedSessions> {
  const grants = await tx
    .select({ id: oidcModels.id, payload: oidcModels.payload })
    .from(oidcModels)
    .where(and(eq(oidcModels.kind, 'Grant'), eq(oidcModels.accountId, accountId)));
  const revoked = grants.filter((g) => releasesFunctions(g.payload));
  for (const grant of revoked) await tombstone(tx, grant.id, now, retentionSeconds);
  return { grants: revoked.length, sessions: 0, clients: clientsOf(revoked.map((g) => g.payload)) };
}

/** Client ids named by oidc-provider payloads: `clientId` of grants and tokens, `authorizations` keys of sessions. */
function clientsOf(payloads: Record<string, unknown>[]): string[] {
  const clients = new Set<string>();
  for (const payload of payloads) {
    if (typeof payload.clientId === 'string') clients.add(payload.clientId);
    const authorizations = payload.authorizations;
    if (authorizations && typeof authorizations === 'object') for (const clientId of Object.keys(authorizations)) clients.add(clientId);
  }
  return [...clients].sort();
}

/** The grant ids a Session payload holds (`authorizations[clientId].grantId`) and its `sid` at each client. */
function authorizationsOf(payload: Record<string, unknown> | undefined): { clientId: string; grantId?: string; sid?: string }[] {
  const authorizations = (payload?.authorizations ?? {}) as Record<string, { grantId?: unknown; sid?: unknown }>;
  return Object.entries(authorizations).map(([clientId, a]) => ({
    clientId,
    ...(typeof a?.grantId === 'string' ? { grantId: a.grantId } : {}),
    ...(typeof a?.sid === 'string' ? { sid: a.sid } : {}),
  }));
}

/**
 * Ends every IdP session of the account except the one whose `uid` is `keepSessionUid`, and revokes (as
 * {@link revokeGrant} does) every grant of the account except those that session holds, in one transaction. Use
 * after the holder changed a credential from that session (ASVS 5.0 V7.4.3). Sessions are matched by their `uid`
 * column (never by their id, a bearer secret) and grants by their id, a plain reference.
 * @returns counts, the clients that held what ended, and each ended session's `sid` at each client.
 */
export async function revokeOtherSessions(database: Database, accountId: string, keepSessionUid: string, now: Date, retentionSeconds = REVOKED_GRANT_RETENTION_SECONDS): Promise<EndedOtherSessions> {
  return database.db.transaction(async (tx) => {
    const rows = await tx
      .select({ kind: oidcModels.kind, id: oidcModels.id, uid: oidcModels.uid, grantId: oidcModels.grantId, payload: oidcModels.payload })
      .from(oidcModels)
      .where(and(eq(oidcModels.accountId, accountId), or(eq(oidcModels.kind, 'Grant'), eq(oidcModels.kind, 'Session'), isNotNull(oidcModels.grantId))));
    const kept = rows.find((r) => r.kind === 'Session' && r.uid === keepSessionUid);
    const keptGrants = new Set(authorizationsOf(kept?.payload).map((a) => a.grantId));
    // Grant ids are references stored as they are (the row id of a Grant, `grant_id` of its codes and tokens).
    const grantIdOf = (r: (typeof rows)[number]) => (r.kind === 'Grant' ? r.id : r.grantId!);
    const endedGrantRows = rows.filter((r) => r.kind !== 'Session' && !keptGrants.has(grantIdOf(r)));
    const grantIds = new Set(endedGrantRows.map(grantIdOf));
    for (const grantId of grantIds) await tombstone(tx, grantId, now, retentionSeconds);
    const sessions = await tx
      .delete(oidcModels)
      .where(and(eq(oidcModels.kind, 'Session'), eq(oidcModels.accountId, accountId), sql`${oidcModels.uid} is distinct from ${keepSessionUid}`))
      .returning({ payload: oidcModels.payload });
    const logouts = sessions.flatMap((s) => authorizationsOf(s.payload).flatMap((a) => (a.sid ? [{ clientId: a.clientId, sid: a.sid }] : [])));
    return { grants: grantIds.size, sessions: sessions.length, clients: clientsOf([...endedGrantRows, ...sessions].map((r) => r.payload)), logouts };
  });
}
