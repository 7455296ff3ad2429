/**
 * TOTP (RFC 6238) primitives on otplib 13, with the parameters of policies/authenticator.ts: HMAC-SHA-1,
 * 6 digits, 30-second steps from T0 = 0, a window of ±1 step, and an `afterStep` replay floor.
 */
import { generateSecret, generateURI, verify } from 'otplib';
import { TOTP_PARAMETERS, TOTP_SECRET_BYTES, TOTP_WINDOW_STEPS } from '../../../policies/index.js';

/** A new random shared secret, Base32 (RFC 4648 §6) without padding: {@link TOTP_SECRET_BYTES} bytes. */
export function newTotpSecret(): string {
  return generateSecret({ length: TOTP_SECRET_BYTES });
}

/**
 * The key URI authenticator apps scan (Google Authenticator "Key Uri Format"):
 * `otpauth://totp/<issuer>:<label>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
 * @param issuer - the deployment's display name.
 * @param label - the account's user ID.
 */
export function totpUri(input: { issuer: string; label: string; secret: string }): string {
  return generateURI({ ...input, algorithm: TOTP_PARAMETERS.algorithm, digits: TOTP_PARAMETERS.digits, period: TOTP_PARAMETERS.periodSeconds });
}

/** `123 456` → `123456`; null when it is not {@link TOTP_PARAMETERS}.digits decimal digits. */
export function normalizeTotpCode(code: string): string | null {
  const normalized = code.replace(/\s+/g, '');
  return new RegExp(`^\\d{${TOTP_PARAMETERS.digits}}$`).test(normalized) ? normalized : null;
}

/**
 * Checks `code` against `secret` at instant `now` (RFC 6238 §4), accepting the previous, current and next
 * time step (§5.2, window {@link TOTP_WINDOW_STEPS}), and only steps after `afterStep` (replay floor).
 * Comparison is constant-time (otplib).
 * @returns the matched time step T, or null when the code is wrong, malformed, or of a step at or before `afterStep`
 *   (also when `afterStep` is at or beyond the window's last step). Never throws for a wrong or replayed code.
 */
export async function verifyTotp(secret: string, code: string, now: Date, afterStep: number | null): Promise<number | null> {
  const token = normalizeTotpCode(code);
  if (!token) return null;
  const epoch = Math.floor(now.getTime() / 1000);
  // A floor at or past the window's last step (another instance's clock ran ahead, or this one stepped back)
  // leaves no acceptable step; otplib would throw for it, so refuse here.
  if (afterStep !== null && afterStep >= Math.floor(epoch / TOTP_PARAMETERS.periodSeconds) + TOTP_WINDOW_STEPS) return null;
  const result = await verify({
    secret,
    token,
    epoch,
    epochTolerance: TOTP_WINDOW_STEPS * TOTP_PARAMETERS.periodSeconds,
    algorithm: TOTP_PARAMETERS.algorithm,
    digits: TOTP_PARAMETERS.digits,
    period: TOTP_PARAMETERS.periodSeconds,
    ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
  });
  // The functional `verify` returns the TOTP or HOTP result type; with the default `totp` strategy it is TOTP's.
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
