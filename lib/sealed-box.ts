/**
 * Authenticated encryption of secrets at rest: AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV.
 * Output format: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts `plaintext` under `key`.
 * @param key - 32 raw bytes.
 * @throws RangeError when the key is not 32 bytes.
 */
export function seal(plaintext: string, key: Buffer): string {
  if (key.length !== 32) throw new RangeError('encryption key must be 32 bytes');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/**
 * Decrypts a value produced by {@link seal}.
 * @throws Error when the value was altered or sealed under another key.
 */
export function open(sealed: string, key: Buffer): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

/** The keys values are sealed with: `current` seals and opens, `previous` (former keys) only open. 32 bytes each. */
export interface SealingKeys {
  current: Buffer;
  previous?: Buffer[];
}

/** Accepts one key or a {@link SealingKeys}; one key means no previous keys. */
export function asSealingKeys(keys: Buffer | SealingKeys): SealingKeys {
  return Buffer.isBuffer(keys) ? { current: keys } : keys;
}

/**
 * Opens a sealed value with the current key, then each previous key (during an `ENCRYPTION_KEY` rotation).
 * @throws Error when no key opens it (altered, or sealed under a key no longer configured).
 */
export function openWithAnyKey(sealed: string, keys: SealingKeys): string {
  for (const key of [keys.current, ...(keys.previous ?? [])]) {
    try {
      return open(sealed, key);
    } catch {
      // try the next key
    }
  }
  throw new Error('a sealed value could not be decrypted with ENCRYPTION_KEY or PREVIOUS_ENCRYPTION_KEYS');
}
