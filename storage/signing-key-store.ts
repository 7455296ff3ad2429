/**
 * Token signing keys, persisted so every instance signs with the same keys and restarts keep them
 * (design/security.md §7). Private JWKs are sealed at rest with lib/sealed-box. Rotation publishes the next key
 * ahead of signing with it (`sign_from`), so relying parties caching the JWKS know it before they see it, and keeps
 * the previous keys published until `retire_at`, so tokens they signed keep verifying (RFC 7517 key sets).
 */
import { desc, gt, isNull, or, sql } from 'drizzle-orm';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { addSeconds, asSealingKeys, openWithAnyKey, seal, type SealingKeys } from '../lib/index.js';
import type { Database, Executor } from './database.js';
import { signingKeys } from './schema.js';

/** The signing algorithm of generated keys. */
export const SIGNING_ALG = 'RS256';

/** Advisory lock key serializing key generation across instances. */
const KEYS_LOCK = 0x6b657973; // "keys"

/** A key's public facts (never the private part). */
export interface SigningKeyInfo {
  kid: string;
  alg: string;
  /** When it was generated, and from then on published. */
  createdAt: Date;
  /** When it may start signing (the newest published key whose `signFrom` has passed signs). */
  signFrom: Date;
  /** Null while active; the instant it stops being published otherwise. */
  retireAt: Date | null;
}

/** Signing keys for oidc-provider's `jwks` option. */
export interface SigningKeyStore {
  /** Generates an RS256 key when no active key exists (first start). Safe when instances start together. */
  ensureKeys(now: Date): Promise<void>;
  /**
   * Private JWKs (with `kid`, `alg`, `use: 'sig'`) of every key not retired at `now`: the signing key first —
   * the newest whose `sign_from` has passed — then the others newest first (keys published ahead of signing,
   * and retiring keys). oidc-provider signs with the first and verifies with all (RFC 7517 key set).
   *
   * `retireGraceSeconds` (several instances, each re-reading the keys every SIGNING_KEY_RELOAD_SECONDS: give twice
   * that): a retiring key stays published this much past its `retire_at`, covering the tokens an instance that
   * had not yet reloaded signed with it after the next key's `sign_from`.
   * @throws Error when a key cannot be unsealed (another encryption key).
   */
  listJwks(now: Date, options?: { retireGraceSeconds?: number }): Promise<JWK[]>;
  /**
   * Generates a new key, published at once, that starts signing `publishAheadSeconds` later (0: at each
   * instance's next reload, for emergencies), and schedules every active key to retire `retainSeconds` after that
   * (seconds; use the longest token lifetime), so the tokens they sign until then keep verifying.
   * @returns the new key and the ones now retiring.
   */
  rotate(now: Date, options: { retainSeconds: number; publishAheadSeconds: number }): Promise<SigningKeyInfo & { retiring: SigningKeyInfo[] }>;
}

/** The context a private signing key is sealed for (AES-GCM associated data): its key ID. */
export function privateKeyContext(kid: string): string {
  return `signing_keys:${kid}`;
}

async function insertNewKey(tx: Executor, now: Date, signFrom: Date, encryptionKey: Buffer): Promise<SigningKeyInfo> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const key = { kid, alg: SIGNING_ALG, createdAt: now, signFrom, retireAt: null };
  await tx.insert(signingKeys).values({ ...key, privateJwk: seal(JSON.stringify({ ...jwk, kid, alg: SIGNING_ALG, use: 'sig' }), encryptionKey, privateKeyContext(kid)) });
  return key;
}

/**
 * Creates the signing key store. Private keys are sealed under `keys.current` (or the one key given) and opened
 * with it or any previous key (ENCRYPTION_KEY rotation, docs/authenticator.md).
 */
export function createSigningKeyStore(database: Database, keys: Buffer | SealingKeys): SigningKeyStore {
  const sealing = asSealingKeys(keys);
  const encryptionKey = sealing.current;
  const { db } = database;
  const lock = (tx: Executor) => tx.execute(sql`select pg_advisory_xact_lock(${KEYS_LOCK})`);
  return {
    async ensureKeys(now) {
      await db.transaction(async (tx) => {
        await lock(tx);
        const active = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retireAt)).limit(1);
        if (active.length === 0) await insertNewKey(tx, now, now, encryptionKey);
      });
    },

    async listJwks(now, options = {}) {
      const published = addSeconds(now, -(options.retireGraceSeconds ?? 0));
      const rows = await db
        .select()
        .from(signingKeys)
        .where(or(isNull(signingKeys.retireAt), gt(signingKeys.retireAt, published)))
        .orderBy(desc(signingKeys.createdAt), desc(signingKeys.retireAt));
      // The signing key (first) is the newest one whose sign_from has passed: relying parties have had the
      // publish-ahead delay to fetch it.
      const signing = Math.max(0, rows.findIndex((row) => row.signFrom <= now));
      const ordered = signing > 0 ? [rows[signing]!, ...rows.filter((_, i) => i !== signing)] : rows;
      return ordered.map((row) => JSON.parse(openWithAnyKey(row.privateJwk, sealing, privateKeyContext(row.kid))) as JWK);
    },

    async rotate(now, { retainSeconds, publishAheadSeconds }) {
      const signFrom = addSeconds(now, publishAheadSeconds);
      return db.transaction(async (tx) => {
        await lock(tx);
        const retiring = await tx
          .update(signingKeys)
          .set({ retireAt: addSeconds(signFrom, retainSeconds) })
          .where(isNull(signingKeys.retireAt))
          .returning({ kid: signingKeys.kid, alg: signingKeys.alg, createdAt: signingKeys.createdAt, signFrom: signingKeys.signFrom, retireAt: signingKeys.retireAt });
        return { ...(await insertNewKey(tx, now, signFrom, encryptionKey)), retiring };
      });
    },
  };
}
