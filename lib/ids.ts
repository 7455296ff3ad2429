/**
 * Identifiers, random tokens and hashes (node:crypto only).
 */
import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';

/** A random UUID v4, used as primary key and as the OIDC `sub` of accounts. */
export function newId(): string {
  return randomUUID();
}

/**
 * A URL-safe random token.
 * @param bytes - entropy in bytes (default 32 = 256 bits).
 */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A string of `length` random decimal digits (uniform; for one-time codes). */
export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(randomInt(10));
  return out;
}

/** SHA-256 of a UTF-8 string, hex-encoded: how single-use secrets are stored. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
