/**
 * Password hashing with argon2id (RFC 9106; OWASP parameters m=19 MiB, t=2, p=1), and a dummy
 * verification so that unknown accounts cost the same time as known ones (design/security.md §3).
 */
import { hash, verify, type Options } from '@node-rs/argon2';
import { PASSWORD_MAX_LENGTH } from '../../policies/index.js';
import { passwordLength } from './password-policy.js';

/** argon2id parameters: memory in KiB, iterations, lanes. */
/** `algorithm: 2` is `Algorithm.Argon2id` (a const enum, not importable under verbatimModuleSyntax). */
export const ARGON2_OPTIONS: Options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

let dummyHash: Promise<string> | undefined;

/** Hashes a password; returns a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/**
 * Verifies a password against a PHC string. Input longer than {@link PASSWORD_MAX_LENGTH} characters (code
 * points, as the password policy counts them) is refused without hashing. A malformed hash verifies as false rather than throwing.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > 4 * PASSWORD_MAX_LENGTH || passwordLength(password) > PASSWORD_MAX_LENGTH) return false;
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Spends the time of one verification and returns false: for unknown accounts and refused attempts. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('connect-iam dummy password for timing equality');
  await verifyPassword(await dummyHash, password.slice(0, PASSWORD_MAX_LENGTH));
  return false;
}
