/**
 * oidc-provider's models (everything but Client) in `oidc_models`, keyed by (kind, id). A row is found only
 * while it has not expired and its grant has no tombstone (see oidc-grant-revocation.ts). The ids and payloads
 * given here are already the stored ones (oidc-model-secrets.ts: keyed hashes, bearer values removed); lookups
 * take every id a model may be stored under during a key rotation, the current key's first.
 *
 * The statements of every protocol request (find by id, save, consume, consume-and-save) are prepared once per
 * database and sent as named statements (`pg` parses each once per connection; drizzle builds each once), so a
 * token or userinfo request spends neither query building nor parsing on them (issue 10 §3), nor planning: those
 * that take ids have a variant for one id whose generic plan PostgreSQL keeps (see {@link byIds}).
 */
import { and, desc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import { addSeconds } from '../lib/index.js';
import type { AccountView } from '../identity/index.js';
import { accountViewFromJson, accountViewJson } from './account-store.js';
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
const placeholder = (name: string) => sql.placeholder(name);

/** Not expired at `$now` (a placeholder, ISO 8601). */
const live = sql`(${oidcModels.expiresAt} is null or ${oidcModels.expiresAt} > ${placeholder('now')}::timestamptz)`;
/** Its grant (its own id for a Grant) has no tombstone. */
const notRevoked = sql`not exists (select 1 from ${oidcRevokedGrants} where ${oidcRevokedGrants.grantId} = coalesce(${oidcModels.grantId}, case when ${oidcModels.kind} = 'Grant' then ${oidcModels.id} end))`;
/**
 * The live, unrevoked Grant a row belongs to, read in the row's own statement: the payload oidc-provider saved,
 * or null. Its filters are {@link live} and {@link notRevoked} as a Grant's own lookup applies them. (The outer
 * column is written out: drizzle leaves a selected column's table off, and `grant_id` would then be `g`'s.)
 */
const grantOfRow = sql<Record<string, unknown> | string | null>`(select g.payload from oidc_models g where g.kind = 'Grant' and g.id = "oidc_models"."grant_id"
  and (g.expires_at is null or g.expires_at > ${placeholder('now')}::timestamptz)
  and not exists (select 1 from oidc_revoked_grants r where r.grant_id = g.id))`;

/**
 * The live Session a session-bound code or token (`expiresWithSession`) belongs to, found by the `sessionUid` of
 * the row's payload, read in the row's own statement: `{ id, payload }`, or null (no such session, it expired, or
 * the row is not session-bound). Its filter is {@link findModel}'s for a Session by uid (a Session has no grant).
 */
const sessionOfRow = sql<Record<string, unknown> | string | null>`(case when "oidc_models"."payload"->'expiresWithSession' = 'true'::jsonb then
  (select jsonb_build_object('id', s.id, 'payload', s.payload) from oidc_models s where s.kind = 'Session' and s.uid = "oidc_models"."payload"->>'sessionUid'
    and (s.expires_at is null or s.expires_at > ${placeholder('now')}::timestamptz) limit 1) end)`;

/**
 * The account a row is about, when `$withAccount`: its `account_id`, or for an Interaction the account its finished
 * login names (`result.login.accountId`, what oidc-provider's resume logs in); null otherwise.
 */
const accountOfRow = sql<string | null>`(case when ${placeholder('withAccount')}::boolean then coalesce("oidc_models"."account_id", "oidc_models"."payload" #>> '{result,login,accountId}') end)`;

/** The row as `oidc_models` takes it, from what the adapter saves. */
function rowOf(kind: string, model: StoredModel, expiresInSeconds: number | undefined, now: Date) {
  const { id, payload } = model;
  return {
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
}

/** What an upsert changes on an existing row: never un-consumes it, keeps its user code when the new one has none. */
const onSave = {
  target: [oidcModels.kind, oidcModels.id],
  set: {
    payload: sql`excluded.payload`,
    grantId: sql`excluded.grant_id`,
    userCode: sql`coalesce(excluded.user_code, ${oidcModels.userCode})`,
    uid: sql`excluded.uid`,
    accountId: sql`excluded.account_id`,
    expiresAt: sql`excluded.expires_at`,
    consumedAt: sql`coalesce(${oidcModels.consumedAt}, excluded.consumed_at)`,
  },
};

/**
 * Which rows of `$kind` a statement is about: with `one`, the row `$id`; else the rows whose id is one of `$ids`.
 * One id is the rule (no key rotation under way). PostgreSQL plans `id = any($ids)` for an array of unknown length
 * as several index probes, so its generic plan looks dearer than a custom one, and `plan_cache_mode=auto` plans
 * every execution anew (for the userinfo statement about 0.35 of the backend's 0.45 CPU-ms); with `id = $id` the
 * generic plan is the custom one, and each connection keeps it from the sixth execution on.
 */
const byIds = (one: boolean) =>
  and(eq(oidcModels.kind, placeholder('kind')), one ? sql`${oidcModels.id} = ${placeholder('id')}` : sql`${oidcModels.id} = any(${placeholder('ids')}::text[])`);

/** The parameters of {@link byIds}: `one` when there is a single id. */
const idParams = (ids: string[]) => (ids.length === 1 ? { one: true, params: { id: ids[0]! } } : { one: false, params: { ids } });

/** The statements that take a model's ids, for one id (`one`) or several (see {@link byIds}); `suffix` ends their names. */
function prepareById(db: Db, one: boolean, suffix: string) {
  const byId = byIds(one);
  const unconsumed = and(byId, isNull(oidcModels.consumedAt));
  const consumedNow = {
    consumedAt: sql`${placeholder('now')}::timestamptz`,
    payload: sql`${oidcModels.payload} || jsonb_build_object('consumed', ${placeholder('nowEpoch')}::bigint)`,
  };
  const consumed = db.$with('consumed').as(db.update(oidcModels).set(consumedNow).where(unconsumed).returning({ id: oidcModels.id }));
  // A batch (see saveModels): rows as one jsonb array, saved only when `guarded` is false or the row deleted first existed.
  const recordset = sql`jsonb_to_recordset(${placeholder('rows')}::jsonb) as r(kind text, id text, payload jsonb, grant_id text, user_code text, uid text, account_id text,
      expires_at timestamptz, consumed_at timestamptz)`;
  const gone = db.$with('gone').as(db.delete(oidcModels).where(byId).returning({ id: oidcModels.id }));
  const batchRows = sql`select r.kind, r.id, r.payload, r.grant_id, r.user_code, r.uid, r.account_id, r.expires_at, r.consumed_at
    from ${recordset} where not ${placeholder('guarded')}::boolean or exists (select 1 from gone)`;
  // A batch saved only when this statement consumed the row (see consumeAndSaveModels).
  const consumedRows = sql`select r.kind, r.id, r.payload, r.grant_id, r.user_code, r.uid, r.account_id, r.expires_at, r.consumed_at
    from ${recordset} where exists (select 1 from consumed)`;
  return {
    saveBatch: db.with(gone).insert(oidcModels).select(batchRows).onConflictDoUpdate(onSave).returning({ id: oidcModels.id }).prepare(`oidc_models_save_batch${suffix}`),
    find: db
      .select({
        id: oidcModels.id, payload: oidcModels.payload, consumedAt: oidcModels.consumedAt, grantId: oidcModels.grantId, grant: grantOfRow, session: sessionOfRow,
        accountId: accountOfRow, account: accountViewJson(accountOfRow),
      })
      .from(oidcModels)
      .where(and(byId, live, notRevoked))
      .orderBy(desc(sql`${oidcModels.id} = ${placeholder('preferredId')}`))
      .limit(1)
      .prepare(`oidc_models_find${suffix}`),
    consume: db.update(oidcModels).set(consumedNow).where(unconsumed).returning({ id: oidcModels.id }).prepare(`oidc_models_consume${suffix}`),
    consumeAndSave: db.with(consumed).insert(oidcModels).select(consumedRows).onConflictDoUpdate(onSave).returning({ id: oidcModels.id }).prepare(`oidc_models_consume_save${suffix}`),
  };
}

/** The named statements of one database (see the module comment). */
function prepare(db: Db) {
  return {
    upsert: db
      .insert(oidcModels)
      .values({
        kind: placeholder('kind'), id: placeholder('id'), payload: placeholder('payload'), grantId: placeholder('grantId'), userCode: placeholder('userCode'),
        // Timestamps go as ISO 8601 text (or null, which a column's encoder would refuse).
        uid: placeholder('uid'), accountId: placeholder('accountId'), expiresAt: sql`${placeholder('expiresAt')}::timestamptz`, consumedAt: sql`${placeholder('consumedAt')}::timestamptz`,
      })
      .onConflictDoUpdate(onSave)
      .prepare('oidc_models_upsert'),
    byOneId: prepareById(db, true, ''),
    byAnyId: prepareById(db, false, '_any'),
  };
}

/** The statements of {@link prepareById} for `ids`, and their id parameters. */
function byIdStatements(db: Db, ids: string[]) {
  const { one, params } = idParams(ids);
  const statements = statementsOf(db);
  return { ...(one ? statements.byOneId : statements.byAnyId), params };
}

const prepared = new WeakMap<Db, ReturnType<typeof prepare>>();
function statementsOf(db: Db): ReturnType<typeof prepare> {
  let statements = prepared.get(db);
  if (!statements) prepared.set(db, (statements = prepare(db)));
  return statements;
}

/**
 * Saves (inserts or replaces) a model; `expiresInSeconds` undefined means no expiry. Never un-consumes a row,
 * and keeps the row's user code when the payload saved has none (a DeviceCode loaded by its id).
 */
export async function upsertModel(db: Db, kind: string, model: StoredModel, expiresInSeconds: number | undefined, now: Date): Promise<void> {
  const row = rowOf(kind, model, expiresInSeconds, now);
  await statementsOf(db).upsert.execute({ ...row, expiresAt: row.expiresAt?.toISOString() ?? null, consumedAt: row.consumedAt?.toISOString() ?? null });
}

/** One model to save with {@link saveModels}. */
export interface ModelToSave {
  kind: string;
  model: StoredModel;
  /** Seconds from `now`; undefined: no expiry. */
  expiresInSeconds: number | undefined;
  /** When the save was asked for: its expiry counts from here. */
  now: Date;
}

/**
 * Saves several models (as {@link upsertModel} each) and deletes one, in one statement. With `destroy`, the
 * models are saved only when this statement deleted that row, so of two requests finishing one interaction only
 * one saves what follows from it. No two of `models` may have the same kind and id.
 * @returns `{ saved: false }` when `destroy` was given and its row was already gone (nothing saved, nothing deleted);
 *   with no models, `destroy` is a plain delete.
 */
export async function saveModels(db: Db, models: ModelToSave[], destroy?: { kind: string; ids: string[] }): Promise<{ saved: boolean }> {
  if (models.length === 0) {
    if (destroy) await destroyModel(db, destroy.kind, destroy.ids);
    return { saved: true };
  }
  // Without `destroy`, the statement deletes nothing: no row has the empty kind.
  const { saveBatch, params } = byIdStatements(db, destroy?.ids ?? ['']);
  const saved = await saveBatch.execute({ kind: destroy?.kind ?? '', ...params, rows: rowsJson(models), guarded: destroy !== undefined });
  return { saved: destroy === undefined || saved.length > 0 };
}

/** `models` as the jsonb array the batch statements read (`jsonb_to_recordset`). */
function rowsJson(models: ModelToSave[]): string {
  return JSON.stringify(
    models.map(({ kind, model, expiresInSeconds, now }) => {
      const row = rowOf(kind, model, expiresInSeconds, now);
      return {
        kind: row.kind, id: row.id, payload: row.payload, grant_id: row.grantId, user_code: row.userCode, uid: row.uid, account_id: row.accountId,
        expires_at: row.expiresAt?.toISOString() ?? null, consumed_at: row.consumedAt?.toISOString() ?? null,
      };
    }),
  );
}

/**
 * Marks the model of `consumedKind` stored under one of `consumedIds` consumed and saves `models` (as
 * {@link upsertModel} each; at least one, no two with the same kind and id), in one statement: they are saved
 * only when this call consumed the row (`… WHERE consumed_at IS NULL`), so of N concurrent callers exactly one
 * saves. For a token request: the code or rotated refresh token is used up exactly when the tokens it gave exist.
 * @returns `{ consumed: true }` for the caller that consumed and saved; otherwise as {@link consumeModel}, nothing saved.
 */
export async function consumeAndSaveModels(
  db: Db,
  consumedKind: string,
  consumedIds: string[],
  models: ModelToSave[],
  now: Date,
): Promise<{ consumed: true } | { consumed: false; grantId: string | null }> {
  const { consumeAndSave, params } = byIdStatements(db, consumedIds);
  const saved = await consumeAndSave.execute({ kind: consumedKind, ...params, now: now.toISOString(), nowEpoch: epochSeconds(now), rows: rowsJson(models) });
  if (saved.length >= 1) return { consumed: true };
  return { consumed: false, grantId: await grantIdOf(db, consumedKind, consumedIds) };
}

/** Rows whose id is one of `ids` (a model's ids under the current and previous keys). */
export const idIn = (ids: string[]): SQL => inArray(oidcModels.id, ids);

/** A live model as {@link findModel} finds it. */
export interface FoundModel {
  /** Its row id. */
  id: string;
  /** Its payload, with `consumed` set when consumed. */
  payload: OidcPayload;
}

/** The payload with `consumed` from the row's column when the payload lacks it. */
function withConsumed(stored: Record<string, unknown>, consumedAt: Date | null): OidcPayload {
  const payload: OidcPayload = { ...stored };
  if (consumedAt && typeof payload.consumed !== 'number') payload.consumed = epochSeconds(consumedAt);
  return payload;
}

/** A model found by id with what oidc-provider loads right after it (see {@link findModelById}). */
export interface FoundModelWithContext extends FoundModel {
  /** The row's grant id, null for kinds without one. */
  grantId: string | null;
  /** The payload of the live, unrevoked Grant of `grantId`, or null. */
  grant: Record<string, unknown> | null;
  /** For a session-bound row (`expiresWithSession`): its live Session by `sessionUid` (row id and payload), or null. */
  session: FoundModel | null;
  /** With `withAccount`: the account the row is about and its view (null: no such account); else undefined. */
  account?: { accountId: string; view: AccountView | null };
}

/** A jsonb value as the driver hands it over: pg parses jsonb itself, another driver may give the text. */
const jsonOf = <T>(value: T | string | null): T | null => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

/**
 * The live model of `kind` stored under one of `ids` — preferring the row whose id is `preferredId` — and, in the
 * same statement, the live Grant it belongs to (`grant`: its payload, or null when there is none, or it expired or
 * was revoked) and, when the row expires with its session, that live Session (`session`, or null). oidc-provider
 * loads a token's Grant right after the token at the token, userinfo and introspection endpoints, and a
 * session-bound code's or token's Session by uid (its `checkSessionBinding`); reading them at once saves those
 * round trips. With `withAccount`, the view of the account the row is about is read too (`account`), for the
 * request's `findAccount` (account-store.ts `shareAccountView`).
 */
export async function findModelById(db: Db, kind: string, ids: string[], now: Date, preferredId?: string, withAccount = false): Promise<FoundModelWithContext | undefined> {
  const { find, params } = byIdStatements(db, ids);
  const [row] = await find.execute({ kind, ...params, now: now.toISOString(), preferredId: preferredId ?? '', withAccount });
  if (!row) return undefined;
  const grant = jsonOf(row.grant);
  const session = jsonOf(row.session as { id: string; payload: Record<string, unknown> } | string | null);
  return {
    id: row.id,
    payload: withConsumed(row.payload, row.consumedAt),
    grantId: row.grantId,
    grant: grant ?? null,
    session: session ? { id: session.id, payload: withConsumed(session.payload, null) } : null,
    ...(row.accountId ? { account: { accountId: row.accountId, view: row.account ? accountViewFromJson(row.account) : null } } : {}),
  };
}

/**
 * The live model of `kind` matching `where` (a Session by `uid`, a DeviceCode by user code) — preferring the
 * row whose id is `preferredId` — with `consumed` set when consumed, and its row id; undefined otherwise.
 */
export async function findModel(db: Db, kind: string, where: SQL, now: Date, preferredId?: string): Promise<FoundModel | undefined> {
  const revoked = sql`exists (select 1 from ${oidcRevokedGrants} where ${oidcRevokedGrants.grantId} = coalesce(${oidcModels.grantId}, case when ${oidcModels.kind} = 'Grant' then ${oidcModels.id} end))`;
  const [row] = await db
    .select({ id: oidcModels.id, payload: oidcModels.payload, consumedAt: oidcModels.consumedAt })
    .from(oidcModels)
    .where(and(eq(oidcModels.kind, kind), where, or(isNull(oidcModels.expiresAt), sql`${oidcModels.expiresAt} > ${now.toISOString()}::timestamptz`), sql`not ${revoked}`))
    .orderBy(desc(sql`${oidcModels.id} = ${preferredId ?? ''}`))
    .limit(1);
  return row ? { id: row.id, payload: withConsumed(row.payload, row.consumedAt) } : undefined;
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

/** The grant id of the model of `kind` stored under one of `ids`, or null when there is no such row or grant. */
async function grantIdOf(db: Db, kind: string, ids: string[]): Promise<string | null> {
  const [row] = await db.select({ grantId: oidcModels.grantId }).from(oidcModels).where(and(eq(oidcModels.kind, kind), idIn(ids)));
  return row?.grantId ?? null;
}

/**
 * Marks a model consumed with one conditional UPDATE (`… WHERE consumed_at IS NULL`); `ids` are the row ids it
 * may be stored under.
 * @returns `{ consumed: true }` for exactly one caller; otherwise whether the row exists and its grant id.
 */
export async function consumeModel(db: Db, kind: string, ids: string[], now: Date): Promise<{ consumed: true } | { consumed: false; grantId: string | null }> {
  const { consume, params } = byIdStatements(db, ids);
  const updated = await consume.execute({ kind, ...params, now: now.toISOString(), nowEpoch: epochSeconds(now) });
  if (updated.length >= 1) return { consumed: true };
  return { consumed: false, grantId: await grantIdOf(db, kind, ids) };
}

/** Deletes one model, under whichever of `ids` it is stored. */
export async function destroyModel(db: Db, kind: string, ids: string[]): Promise<void> {
  await db.delete(oidcModels).where(and(eq(oidcModels.kind, kind), idIn(ids)));
}

/** Deletes every model of a grant (codes, tokens; not the Grant itself), as oidc-provider's `revokeByGrantId` asks. */
export async function destroyByGrantId(db: Db, grantId: string): Promise<void> {
  await db.delete(oidcModels).where(eq(oidcModels.grantId, grantId));
}
