/**
 * oidc-provider's models (everything but Client) in `oidc_models`, keyed by (kind, id). A row is found only
 * while it has not expired and its grant has no tombstone (see oidc-grant-revocation.ts).
 */
import { and, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import { addSeconds } from '../lib/index.js';
import type { Db } from './database.js';
import { oidcModels, oidcRevokedGrants } from './schema.js';

/** An oidc-provider payload: plain JSON. `consumed` is seconds since the epoch. */
export type OidcPayload = Record<string, unknown> & { consumed?: number };

/** Models that belong to a grant: `revokeByGrantId` and tombstones reach these (as oidc-provider's memory adapter). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : null);
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** Saves (inserts or replaces) a model; `expiresInSeconds` undefined means no expiry. Never un-consumes a row. */
export async function upsertModel(db: Db, kind: string, id: string, payload: OidcPayload, expiresInSeconds: number | undefined, now: Date): Promise<void> {
  const row = {
    kind,
    id,
    payload,
    grantId: GRANTABLE.has(kind) ? text(payload.grantId) : null,
    userCode: text(payload.userCode),
    uid: text(payload.uid),
    accountId: text(payload.accountId),
    expiresAt: typeof expiresInSeconds === 'number' ? addSeconds(now, expiresInSeconds) : null,
    consumedAt: typeof payload.consumed === 'number' ? new Date(payload.consumed * 1000) : null,
  };
  await db
    .insert(oidcModels)
    .values(row)
    .onConflictDoUpdate({
      target: [oidcModels.kind, oidcModels.id],
      set: { ...row, consumedAt: sql`coalesce(${oidcModels.consumedAt}, excluded.consumed_at)` },
    });
}

/** The live model of `kind` matching `where`, with `consumed` set when consumed; undefined otherwise. */
export async function findModel(db: Db, kind: string, where: SQL, now: Date): Promise<OidcPayload | undefined> {
  const revoked = sql`exists (select 1 from ${oidcRevokedGrants} where ${oidcRevokedGrants.grantId} = coalesce(${oidcModels.grantId}, case when ${oidcModels.kind} = 'Grant' then ${oidcModels.id} end))`;
  const [row] = await db
    .select({ payload: oidcModels.payload, consumedAt: oidcModels.consumedAt })
    .from(oidcModels)
    .where(and(eq(oidcModels.kind, kind), where, or(isNull(oidcModels.expiresAt), sql`${oidcModels.expiresAt} > ${now.toISOString()}::timestamptz`), sql`not ${revoked}`))
    .limit(1);
  if (!row) return undefined;
  const payload: OidcPayload = { ...row.payload };
  if (row.consumedAt && typeof payload.consumed !== 'number') payload.consumed = epochSeconds(row.consumedAt);
  return payload;
}

/**
 * Marks a model consumed with one conditional UPDATE (`… WHERE consumed_at IS NULL`).
 * @returns `{ consumed: true }` for exactly one caller; otherwise whether the row exists and its grant id.
 */
export async function consumeModel(db: Db, kind: string, id: string, now: Date): Promise<{ consumed: true } | { consumed: false; grantId: string | null }> {
  const key = and(eq(oidcModels.kind, kind), eq(oidcModels.id, id));
  const updated = await db
    .update(oidcModels)
    .set({ consumedAt: now, payload: sql`${oidcModels.payload} || jsonb_build_object('consumed', ${epochSeconds(now)}::bigint)` })
    .where(and(key, isNull(oidcModels.consumedAt)))
    .returning({ id: oidcModels.id });
  if (updated.length === 1) return { consumed: true };
  const [row] = await db.select({ grantId: oidcModels.grantId }).from(oidcModels).where(key);
  return { consumed: false, grantId: row?.grantId ?? null };
}

/** Deletes one model. */
export async function destroyModel(db: Db, kind: string, id: string): Promise<void> {
  await db.delete(oidcModels).where(and(eq(oidcModels.kind, kind), eq(oidcModels.id, id)));
}

/** Deletes every model of a grant (codes, tokens; not the Grant itself), as oidc-provider's `revokeByGrantId` asks. */
export async function destroyByGrantId(db: Db, grantId: string): Promise<void> {
  await db.delete(oidcModels).where(eq(oidcModels.grantId, grantId));
}
