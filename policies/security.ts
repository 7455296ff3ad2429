/**
 * Security policy values that are rules of the product rather than deployment settings.
 * Durations that deployments tune (lockout window, OTP TTL…) live in `lib/config.ts`.
 */

/** At most this many accounts per organization, delegated administrators included (domain.md). */
export const ACCOUNT_QUOTA_PER_ORGANIZATION = 20;

/** Emailed one-time codes: RFC 4226-style decimal codes of this many digits. */
export const EMAIL_OTP_DIGITS = 6;

/** Longest password accepted before hashing; longer input is rejected, never truncated. */
export const PASSWORD_MAX_LENGTH = 128;

/** Shortest password accepted for new passwords (NIST SP 800-63B §3.1.1.2 allows 8; we require 12). */
export const PASSWORD_MIN_LENGTH = 12;

/**
 * Least zxcvbn score (0–4) a new password must reach: 3 means an estimated 10^8 guesses or more, so words
 * with digits appended, l33t spellings of common passwords and keyboard walks are refused (NIST SP 800-63B
 * §3.1.1.2: "passwords obtained from previous breach corpuses, dictionary words, repetitive or sequential
 * characters, context-specific words").
 */
export const PASSWORD_MIN_GUESSABILITY_SCORE = 3;
