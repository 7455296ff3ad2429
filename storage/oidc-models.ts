/**
 * oidc-provider's models (everything but Client) in `oidc_models`, keyed by (kind, id). A row is found only
 * while it has not expired and its grant has no tombstone (see oidc-grant-revocation.ts). The ids and payloads
 * given here are already the stored ones (oidc-model-secrets.ts: keyed hashes, bearer values removed); lookups
 * take every id a model may be stored under during a key rotation, the current key's first.
 */
import { and, desc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { addSeconds } from '../lib/index.js';
import type { Db } from './database.js';
import type { StoredModel } from './oidc-model-secrets.js';
import { uniqueViolation } from './postgres-errors.js';
import { oidcModels, oidcRevokedGrants } from './schema.js';

/** An oidc-provider payload: plain JSON. `consumed` is seconds since the epoch. */
export type OidcPayload = Record<string, unknown> & { consumed?: number };

/** Models that belong to a grant: `revokeByGrantId` and tombstones reach these (as oidc-provider's memory adapter). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : null);
const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Saves (inserts or replaces) a model; `expiresInSeconds` undefined means no expiry. Never un-consumes a row,
 * and keeps the row's user code when the payload saved has none (a DeviceCode loaded by its id).
 */
export async function upsertModel(db: Db, kind: string, model: StoredModel, expiresInSeconds: number | undefined, now: Date): Promise<void> {
  const { id, payload } = model;
  const row = {
    kind,
    id,
    payload,
    grantId: GRANTABLE.has(kind) ? text(payload.grantId) : null,
    userCode: model.userCode,
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
      set: { ...row, consumedAt: sql`coalesce(${oidcModels.consumedAt}, excluded.consumed_at)`, userCode: sql`coalesce(excluded.user_code, ${oidcModels.userCode})` },
    });
}

/** Rows whose id is one of `ids` (a model's ids under the current and previous keys). */
export const idIn = (ids: string[]): SQL => inArray(oidcModels.id, ids);

/**
 * The live model of `kind` matching `where` — preferring the row whose id is `preferredId` — with `consumed`
 * set when consumed, and its row id; undefined otherwise.
 */
export async function findModel(db: Db, kind: string, where: SQL, now: Date, preferredId?: string): Promise<{ id: string; payload: OidcPayload } | undefined> {
  const revoked = sql`exists (select 1 from ${oidcRevokedGrants} where ${oidcRevokedGrants.grantId} = coalesce(${oidcModels.grantId}, case when ${oidcModels.kind} = 'Grant' then ${oidcModels.id} end))`;
  const [row] = await db
    .select({ id: oidcModels.id, payload: oidcModels.payload, consumedAt: oidcModels.consumedAt })
    .from(oidcModels)
    .where(and(eq(oidcModels.kind, kind), where, or(isNull(oidcModels.expiresAt), sql`${oidcModels.expiresAt} > ${now.toISOString()}::timestamptz`), sql`not ${revoked}`))
    .orderBy(desc(sql`${oidcModels.id} = ${preferredId ?? ''}`))
    .limit(1);
  if (!row) return undefined;
  const payload: OidcPayload = { ...row.payload };
  if (row.consumedAt && typeof payload.consumed !== 'number') payload.consumed = epochSeconds(row.consumedAt);
  return { id: row.id, payload };
}

/**
 * Moves a row from an id under a previous key to `toId` (the current key's), so it is found and saved under
 * one id from now on. Does nothing when the row moved meanwhile; drops the old row when `toId` already exists.
 */
export async function rekeyModel(db: Db, kind: string, fromId: string, toId: string): Promise<void> {
  const key = and(eq(oidcModels.kind, kind), eq(oidcModels.id, fromId));
  try {
    await db.update(oidcModels).set({ id: toId }).where(key);
  } catch (error) {
    if (uniqueViolation(error) === null) throw error;
    await db.delete(oidcModels).where(key);
  }
}

/**
 * Marks a model consumed with one conditional UPDATE (`… WHERE consumed_at IS NULL`); `ids` are the row ids it
 * may be stored under.
 * @returns `{ consumed: true }` for exactly one caller; otherwise whether the row exists and its grant id.
 */
export async function consumeModel(db: Db, kind: string, ids: string[], now: Date): Promise<{ consumed: true } | { consumed: false; grantId: string | null }> {
  const key = and(eq(oidcModels.kind, kind), idIn(ids));
  const updated = await db
    .update(oidcModels)
    .set({ consumedAt: now, payload: sql`${oidcModels.payload} || jsonb_build_object('consumed', ${epochSeconds(now)}::bigint)` })
    .where(and(key, isNull(oidcModels.consumedAt)))
    .returning({ id: oidcModels.id });
  if (updated.length >= 1) return { consumed: true };
  const [row] = await db.select({ grantId: oidcModels.grantId }).from(oidcModels).where(key);
  return { consumed: false, grantId: row?.grantId ?? null };
}

/** Deletes one model, under whichever of `ids` it is stored. */
export async function destroyModel(db: Db, kind: string, ids: string[]): Promise<void> {
  await db.delete(oidcModels).where(and(eq(oidcModels.kind, kind), idIn(ids)));
}

/** Deletes every model of a grant (codes, tokens; not the Grant itself), as oidc-provider's `revokeByGrantId` asks. */
export async function destroyByGrantId(db: Db, grantId: string): Promise<void> {
  await db.delete(oidcModels).where(eq(oidcModels.grantId, grantId));
}
