/**
 * The rules a new password must meet (NIST SP 800-63B §3.1.1.2; OWASP ASVS 5.0 V6.2): length only, no
 * composition rules, any Unicode, never truncated, and not something an attacker tries first — the person's
 * own identifiers or a common password. Used by password reset and by every other place that sets a password.
 */
import { createRequire } from 'node:module';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import type * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import type { FieldErrors } from '../../lib/index.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_GUESSABILITY_SCORE, PASSWORD_MIN_LENGTH } from '../../policies/index.js';

/** What the password must not equal: the account's own identifiers. */
export interface PasswordContext {
  userId: string;
  email: string;
  /** Names of the organizations the account belongs to. */
  organizationNames: string[];
}

/**
 * zxcvbn-ts's packages (CommonJS), required at the first password checked: their word lists are about 3 MiB
 * of heap that a server only needs when someone sets a password, so an idle one never loads them.
 */
const requireHere = createRequire(import.meta.url);
const zxcvbnLanguage = (): typeof zxcvbnCommon => requireHere('@zxcvbn-ts/language-common') as typeof zxcvbnCommon;

/** The maintained common-password list of zxcvbn-ts (~49,000 entries), lower-cased once. */
let commonPasswords: Set<string> | undefined;

/**
 * Length in characters as people count them: Unicode code points, so `é`, `中` and `😀` are one each.
 * Both limits ({@link PASSWORD_MIN_LENGTH}, {@link PASSWORD_MAX_LENGTH}) use this count.
 */
export function passwordLength(password: string): number {
  let n = 0;
  for (const _ of password) n++;
  return n;
}

/** True when `password` (case-insensitive) is on the common-password list of `@zxcvbn-ts/language-common`. */
export function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(zxcvbnLanguage().dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

/** zxcvbn-ts with its common dictionaries and keyboard graphs; built on first use (about 0.2 s). */
let estimator: ZxcvbnFactory | undefined;

/**
 * How guessable `password` is, as zxcvbn's score (0 = guessed in under 10^3 tries … 4 = needs over 10^10):
 * dictionary words with l33t substitutions, appended digits and symbols, keyboard walks, repeats, sequences,
 * dates, and the person's own `userInputs` (user ID, email, organization names) are all counted as guessable.
 */
export function guessabilityScore(password: string, userInputs: string[] = []): number {
  if (!estimator) {
    const { ZxcvbnFactory: Factory } = requireHere('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
    const { dictionary, adjacencyGraphs } = zxcvbnLanguage();
    estimator = new Factory({ dictionary: { ...dictionary }, graphs: adjacencyGraphs });
  }
  return estimator.check(password, userInputs).score;
}

/** The values the password may not equal, lower-cased: user ID, email, its local part, organization names. */
function ownIdentifiers(context: PasswordContext): Set<string> {
  const email = context.email.trim().toLowerCase();
  const values = [context.userId, email, email.split('@')[0] ?? '', ...context.organizationNames];
  return new Set(values.map((v) => v.trim().toLowerCase()).filter(Boolean));
}

/**
 * Checks a new password. Rules, each with its own message under the field `password`:
 * - at least {@link PASSWORD_MIN_LENGTH} (12) and at most {@link PASSWORD_MAX_LENGTH} (128) characters
 *   ({@link passwordLength}); longer input is rejected, never truncated;
 * - not one character repeated (e.g. `aaaaaaaaaaaa`);
 * - not the user ID, the email address or its local part, nor an organization name (case-insensitive);
 * - not a common password (case-insensitive, {@link isCommonPassword});
 * - not a variation of one that attackers try early: zxcvbn's {@link guessabilityScore} at least
 *   {@link PASSWORD_MIN_GUESSABILITY_SCORE} (so `Password@123`, `welcome12345` and `zxcvbnm,./123` are refused).
 * Spaces and any Unicode are allowed; nothing is normalized or trimmed.
 * @returns null when acceptable, otherwise `{ password: [messages] }`.
 * @example checkNewPassword('correct horse battery staple', { userId: 'jchan01', email: 'j@x.com', organizationNames: [] }) // null
 */
export function checkNewPassword(password: string, context: PasswordContext): FieldErrors | null {
  const length = passwordLength(password);
  if (length < PASSWORD_MIN_LENGTH) return { password: [`Use at least ${PASSWORD_MIN_LENGTH} characters (you typed ${length}). A few words with spaces make a good password.`] };
  if (length > PASSWORD_MAX_LENGTH) return { password: [`Use at most ${PASSWORD_MAX_LENGTH} characters (you typed ${length}).`] };
  if (new Set(password).size === 1) return { password: ['Do not repeat one character. Choose a few unrelated words instead.'] };
  if (ownIdentifiers(context).has(password.trim().toLowerCase())) return { password: ['Do not use your user ID, email address or organization name as your password.'] };
  if (isCommonPassword(password)) return { password: ['This password is on a list of commonly used passwords. Choose another one.'] };
  if (guessabilityScore(password, [...ownIdentifiers(context)]) < PASSWORD_MIN_GUESSABILITY_SCORE) {
    return { password: ['This password is too easy to guess: it is close to a common password, a word with digits added, a keyboard pattern or your own details. A few unrelated words make a better one.'] };
  }
  return null;
}
