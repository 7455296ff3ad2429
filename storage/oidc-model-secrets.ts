/**
 * What of an oidc-provider model is a live bearer value, and how `oidc_models` keeps it so that a copy of the
 * database or a backup replays nothing (design/security.md §5, issue 8):
 *
 * - The row's `id` is HMAC-SHA-256 of the model's id — the authorization code, refresh token, opaque access
 *   token, session cookie value, interaction id… — for every kind but `Grant`, whose id is a reference that
 *   tokens, sessions and tombstones (`oidc_revoked_grants`) carry by value, and no credential.
 * - `user_code` (device flow) holds the HMAC of the user code.
 * - The payload loses `jti` (the id again), `userCode`, and an Interaction's `session.cookie` (the session
 *   cookie value; oidc-provider never reads it back). {@link ModelSecrets.restore} puts `jti` and `userCode`
 *   back from the value the lookup was given. A row found by something other than its id (a Session by `uid`, a
 *   DeviceCode by user code) keeps its id sealed (AES-256-GCM, lib/sealed-box) as `jtiSealed`, because
 *   oidc-provider saves such a DeviceCode again; the opened id must hash to the row's id.
 *
 * The HMAC key is derived from `ENCRYPTION_KEY` with HKDF-SHA-256 ({@link MODEL_ID_KEY_INFO}); no new setting.
 * During a rotation the ids are looked up under the current key and each of `PREVIOUS_ENCRYPTION_KEYS`, and a
 * row found under a previous key is re-keyed; rows not used before the previous key is removed are no longer
 * found (those people sign in again).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { asSealingKeys, openWithAnyKey, seal, type SealingKeys } from '../lib/index.js';

/** The HKDF `info` of the id key: distinct from every other use of ENCRYPTION_KEY. */
export const MODEL_ID_KEY_INFO = 'connect-iam oidc_models id HMAC-SHA-256 v1';

/** Kinds whose id is stored as it is: references, not credentials. */
export const PLAIN_ID_KINDS: ReadonlySet<string> = new Set(['Grant']);

/** Kinds oidc-provider also finds by something other than their id: Session by `uid`, DeviceCode by user code. */
const FOUND_OTHERWISE: ReadonlySet<string> = new Set(['Session', 'DeviceCode']);

/** A payload as oidc-provider saves and expects it back: plain JSON. */
export type ModelPayload = Record<string, unknown>;

/** A model as `oidc_models` stores it. */
export interface StoredModel {
  /** The row id: the HMAC of the model's id under the current key (or the id itself for {@link PLAIN_ID_KINDS}). */
  id: string;
  /** The payload without its bearer values. */
  payload: ModelPayload;
  /** HMAC of the device flow user code, or null. */
  userCode: string | null;
}

/** Hashing and stripping of one adapter's models (see the module comment). */
export interface ModelSecrets {
  /** The row ids `id` of `kind` may be stored under: the current key's first, then each previous key's. */
  idsOf(kind: string, id: string): string[];
  /** The `user_code` values a user code may be stored under, current key first. */
  userCodesOf(userCode: string): string[];
  /** What to save for `payload` of `kind` with id `id`. */
  toStored(kind: string, id: string, payload: ModelPayload): StoredModel;
  /**
   * The payload oidc-provider expects back from a row: `jti` is `known.id` (the id it was looked up by) or the
   * opened `jtiSealed`, `userCode` is `known.userCode` when given.
   * @returns the payload and the model's plain id (undefined when neither was available).
   */
  restore(kind: string, rowId: string, stored: ModelPayload, known: { id?: string; userCode?: string }): { payload: ModelPayload; id: string | undefined };
}

const mac = (key: Buffer, value: string) => createHmac('sha256', key).update(value, 'utf8').digest('base64url');
const sealContext = (kind: string) => `oidc_models.jti:${kind}`;

/**
 * Creates the {@link ModelSecrets} for `keys` (ENCRYPTION_KEY and, during a rotation, PREVIOUS_ENCRYPTION_KEYS).
 * @throws RangeError (from sealing) when a key is not 32 bytes.
 */
export function createModelSecrets(keys: Buffer | SealingKeys): ModelSecrets {
  const sealing = asSealingKeys(keys);
  const macKeys = [sealing.current, ...(sealing.previous ?? [])].map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), MODEL_ID_KEY_INFO, 32)));
  const hashes = (value: string) => [...new Set(macKeys.map((key) => mac(key, value)))];
  const idsOf = (kind: string, id: string) => (PLAIN_ID_KINDS.has(kind) ? [id] : hashes(id));
  /** The sealed id, or undefined when no configured key opens it (the row is then returned without `jti`). */
  const openSealedId = (sealed: string, kind: string) => {
    try {
      return openWithAnyKey(sealed, sealing, sealContext(kind));
    } catch {
      return undefined;
    }
  };

  return {
    idsOf,
    userCodesOf: hashes,
    toStored(kind, id, payload) {
      const { jti: _jti, userCode, ...rest } = payload;
      const stripped: ModelPayload = rest;
      if (kind === 'Interaction' && rest.session && typeof rest.session === 'object') {
        const { cookie: _cookie, ...session } = rest.session as Record<string, unknown>;
        stripped.session = session;
      }
      if (FOUND_OTHERWISE.has(kind)) stripped.jtiSealed = seal(id, sealing.current, sealContext(kind));
      return { id: idsOf(kind, id)[0]!, payload: stripped, userCode: typeof userCode === 'string' && userCode ? hashes(userCode)[0]! : null };
    },
    restore(kind, rowId, stored, known) {
      const { jtiSealed, ...payload } = stored;
      let id = known.id;
      if (id === undefined && typeof jtiSealed === 'string') {
        const opened = openSealedId(jtiSealed, kind);
        if (opened !== undefined && idsOf(kind, opened).includes(rowId)) id = opened;
      }
      if (id === undefined && PLAIN_ID_KINDS.has(kind)) id = rowId;
      return { payload: { ...payload, ...(id !== undefined ? { jti: id } : {}), ...(known.userCode !== undefined ? { userCode: known.userCode } : {}) }, id };
    },
  };
}
