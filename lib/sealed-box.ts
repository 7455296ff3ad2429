/**
 * Authenticated encryption of secrets at rest: AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV.
 * Output format: `v2.<iv>.<tag>.<ciphertext>` (each part base64url) when sealed for a `context` — additional
 * authenticated data naming the row it belongs to, so a sealed value copied into another row does not open —
 * and `v1.…` without one (values sealed before contexts existed still open unless refused with
 * `allowLegacy: false` — `ALLOW_LEGACY_SEALED=false`; re-sealing upgrades them).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts `plaintext` under `key`.
 * @param key - 32 raw bytes.
 * @param context - what the value belongs to, e.g. `authenticator:<registration id>:<account id>`; authenticated,
 *   not encrypted; the same context must be given to {@link open}.
 * @throws RangeError when the key is not 32 bytes.
 */
export function seal(plaintext: string, key: Buffer, context?: string): string {
  if (key.length !== 32) throw new RangeError('encryption key must be 32 bytes');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [context === undefined ? 'v1' : 'v2', iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/**
 * Decrypts a value produced by {@link seal}. A `v2` value needs the `context` it was sealed for; a `v1` value
 * (sealed without one) ignores it.
 * @throws Error when the value was altered, sealed under another key, or sealed for another context.
 */
export function open(sealed: string, key: Buffer, context?: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if ((version !== 'v1' && version !== 'v2') || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed value');
  if (version === 'v2' && context === undefined) throw new Error('this sealed value needs its context');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  if (version === 'v2') decipher.setAAD(Buffer.from(context!, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

/** The keys values are sealed with: `current` seals and opens, `previous` (former keys) only open. 32 bytes each. */
export interface SealingKeys {
  current: Buffer;
  previous?: Buffer[];
  /**
   * Whether `v1` values (sealed without a context, so not bound to their row) still open; default true.
   * `false` (`ALLOW_LEGACY_SEALED=false`) once `secrets reseal` has rewritten them as `v2`.
   */
  allowLegacy?: boolean;
}

/** Thrown when a `v1` value is opened while `allowLegacy` is false. */
export class LegacySealedValueError extends Error {
  constructor() {
    super('a v1 sealed value (not bound to its row) was refused because ALLOW_LEGACY_SEALED=false; run `npm run iam -- secrets reseal`');
    this.name = 'LegacySealedValueError';
  }
}

/** Accepts one key or a {@link SealingKeys}; one key means no previous keys. */
export function asSealingKeys(keys: Buffer | SealingKeys): SealingKeys {
  return Buffer.isBuffer(keys) ? { current: keys } : keys;
}

/**
 * Opens a sealed value with the current key, then each previous key (during an `ENCRYPTION_KEY` rotation);
 * `context` as for {@link open}.
 * @throws LegacySealedValueError when the value is `v1` and `keys.allowLegacy` is false.
 * @throws Error when no key opens it (altered, or sealed under a key no longer configured).
 */
export function openWithAnyKey(sealed: string, keys: SealingKeys, context?: string): string {
  if (keys.allowLegacy === false && sealed.startsWith('v1.')) throw new LegacySealedValueError();
  for (const key of [keys.current, ...(keys.previous ?? [])]) {
    try {
      return open(sealed, key, context);
    } catch {
      // try the next key
    }
  }
  throw new Error('a sealed value could not be decrypted with ENCRYPTION_KEY or PREVIOUS_ENCRYPTION_KEYS');
}
