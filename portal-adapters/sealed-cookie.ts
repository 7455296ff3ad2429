/**
 * Encrypted cookie values: a JWT encrypted with JWE `dir` + `A256GCM` (RFC 7516, RFC 7518 §4.5, §5.3)
 * under a key derived from the cookie secret with HKDF-SHA-256 (RFC 5869). Each purpose gets its own key,
 * so a value sealed for one purpose (or one client) never opens for another.
 */
import { hkdfSync } from 'node:crypto';
import { EncryptJWT, jwtDecrypt, type JWTPayload } from 'jose';

/** Seals and opens one kind of cookie value. */
export interface Sealer<T extends object> {
  /** Encrypts `value`, valid for `ttlSeconds` from now (JWT `exp`). */
  seal(value: T, ttlSeconds: number): Promise<string>;
  /** Decrypts a sealed value; null when it is missing, tampered with, expired or sealed under another key. */
  open(sealed: string | undefined): Promise<T | null>;
}

const SALT = 'connect-iam portal-adapters cookie v1';

/**
 * A {@link Sealer} whose key is HKDF-SHA-256(`secret`, salt, info = `purpose`), 32 bytes.
 * @param secret - the application's cookie secret (≥ 32 characters, checked by the caller).
 * @param purpose - binds the key to one use, e.g. `session:<client_id>`.
 * @param isValue - checks the decrypted shape; a value failing it opens as null.
 */
export function createSealer<T extends object>(secret: string, purpose: string, isValue: (v: JWTPayload) => boolean): Sealer<T> {
  const key = new Uint8Array(hkdfSync('sha256', secret, SALT, purpose, 32));
  return {
    async seal(value, ttlSeconds) {
      return new EncryptJWT({ ...value } as JWTPayload)
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .encrypt(key);
    },
    async open(sealed) {
      if (!sealed) return null;
      try {
        const { payload } = await jwtDecrypt(sealed, key, {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
          requiredClaims: ['exp'],
        });
        if (!isValue(payload)) return null;
        const { iat: _iat, exp: _exp, ...value } = payload;
        return value as T;
      } catch {
        return null;
      }
    },
  };
}
