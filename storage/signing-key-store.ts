/**
 * Token signing keys, persisted so every instance signs with the same keys and restarts keep them
 * (design/security.md §7). Private JWKs are sealed at rest with lib/sealed-box. Rotation keeps the previous
 * keys published until `retire_at`, so tokens they signed keep verifying (RFC 7517 key sets).
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
  createdAt: Date;
  /** Null while active; the instant it stops being published otherwise. */
  retireAt: Date | null;
}

/** Signing keys for oidc-provider's `jwks` option. */
export interface SigningKeyStore {
  /** Generates an RS256 key when no active key exists (first start). Safe when instances start together. */
  ensureKeys(now: Date): Promise<void>;
  /**
   * Private JWKs (with `kid`, `alg`, `use: 'sig'`): the active key first, then retiring keys whose
   * `retire_at` is after `now`, newest first. oidc-provider signs with the first and verifies with all.
   *
   * `signAfterSeconds` (several instances, each re-reading the keys every SIGNING_KEY_RELOAD_SECONDS: give twice
   * that): a key younger than this is published but listed after the newest older key, so no instance signs with a
   * key before every instance publishes it (a relying party that fetches the JWKS through the load balancer finds
   * every `kid` it is given); a retiring key stays published this much past its `retire_at`, covering the tokens
   * it signed meanwhile. The only key (first start) signs at once.
   * @throws Error when a key cannot be unsealed (another encryption key).
   */
  listJwks(now: Date, options?: { signAfterSeconds?: number }): Promise<JWK[]>;
  /**
   * Generates a new active key and schedules every active key to retire at `now + retainSeconds`
   * (seconds; use the longest token lifetime).
   * @returns the new key and the ones now retiring.
   */
  rotate(now: Date, retainSeconds: number): Promise<SigningKeyInfo & { retiring: SigningKeyInfo[] }>;
}

/** The context a private signing key is sealed for (AES-GCM associated data): its key ID. */
export function privateKeyContext(kid: string): string {
  return `signing_keys:${kid}`;
}

async function insertNewKey(tx: Executor, now: Date, encryptionKey: Buffer): Promise<SigningKeyInfo> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  const key = { kid, alg: SIGNING_ALG, createdAt: now, retireAt: null };
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
        if (active.length === 0) await insertNewKey(tx, now, encryptionKey);
      });
    },

    async listJwks(now, options = {}) {
      const settled = addSeconds(now, -(options.signAfterSeconds ?? 0));
      const rows = await db
        .select()
        .from(signingKeys)
        .where(or(isNull(signingKeys.retireAt), gt(signingKeys.retireAt, settled)))
        .orderBy(sql`${signingKeys.retireAt} is null desc`, desc(signingKeys.createdAt), desc(signingKeys.retireAt));
      // The signing key (first) is the newest one every instance has had time to publish.
      const signing = options.signAfterSeconds ? rows.findIndex((row) => row.createdAt <= settled) : 0;
      const ordered = signing > 0 ? [rows[signing]!, ...rows.filter((_, i) => i !== signing)] : rows;
      return ordered.map((row) => JSON.parse(openWithAnyKey(row.privateJwk, sealing, privateKeyContext(row.kid))) as JWK);
    },

    async rotate(now, retainSeconds) {
      return db.transaction(async (tx) => {
        await lock(tx);
        const retiring = await tx
          .update(signingKeys)
          .set({ retireAt: addSeconds(now, retainSeconds) })
          .where(isNull(signingKeys.retireAt))
          .returning({ kid: signingKeys.kid, alg: signingKeys.alg, createdAt: signingKeys.createdAt, retireAt: signingKeys.retireAt });
        return { ...(await insertNewKey(tx, now, encryptionKey)), retiring };
      });
    },
  };
}
