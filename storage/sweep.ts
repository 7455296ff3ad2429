/**
 * Deletes rows nobody can use any more. The server runs it periodically; every instance may run it (the
 * DELETEs are idempotent). Live rows are never touched.
 */
import { and, inArray, lte } from 'drizzle-orm';
import { addSeconds } from '../lib/index.js';
import type { Database } from './database.js';
import { emailOtpChallenges, mailOutbox, oidcModels, oidcRevokedGrants, passwordResetTokens, rateLimitCounters, webauthnChallenges } from './schema.js';

/** How long an expired email OTP challenge is kept (seconds): the resend throttle and support may read it. */
export const EXPIRED_OTP_RETENTION_SECONDS = 24 * 60 * 60;

/** How long a rate-limit counter is kept after its window started (seconds); windows may be at most this long. */
export const RATE_LIMIT_RETENTION_SECONDS = 7 * 24 * 60 * 60;

/**
 * How long a finished outbox message (sent, or given up as failed) is kept after it was queued (seconds): the
 * operator's "Undelivered mail" screen and support read it. Sent rows hold no body any more; failed ones only the
 * recipient and subject.
 */
export const FINISHED_MAIL_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/** What {@link sweepExpired} deleted. */
export interface SweepCounts {
  oidcModels: number;
  revokedGrants: number;
  emailOtpChallenges: number;
  passwordResetTokens: number;
  rateLimitCounters: number;
  mailOutbox: number;
  /** WebAuthn challenges (passkey registration and sign-in) past their expiry. */
  webauthnChallenges: number;
}

/**
 * Deletes oidc-provider models and grant tombstones whose `expires_at` is at or before `now`; email OTP
 * challenges and password-reset links that expired more than {@link EXPIRED_OTP_RETENTION_SECONDS} before `now`
 * (used or not: an expired link shows "no longer valid" either way); rate-limit counters whose window started
 * more than {@link RATE_LIMIT_RETENTION_SECONDS} before `now`; outbox messages sent or given up that were queued
 * more than {@link FINISHED_MAIL_RETENTION_SECONDS} before `now` (pending ones are never deleted); WebAuthn
 * challenges whose `expires_at` is at or before `now` (each sign-in page shown with JavaScript stores one).
 * @returns the number of rows deleted per table.
 */
export async function sweepExpired(database: Database, now: Date): Promise<SweepCounts> {
  const { db } = database;
  const models = await db.delete(oidcModels).where(lte(oidcModels.expiresAt, now)).returning({ id: oidcModels.id });
  const tombstones = await db.delete(oidcRevokedGrants).where(lte(oidcRevokedGrants.expiresAt, now)).returning({ id: oidcRevokedGrants.grantId });
  const otps = await db
    .delete(emailOtpChallenges)
    .where(lte(emailOtpChallenges.expiresAt, addSeconds(now, -EXPIRED_OTP_RETENTION_SECONDS)))
    .returning({ id: emailOtpChallenges.id });
  const resetLinks = await db
    .delete(passwordResetTokens)
    .where(lte(passwordResetTokens.expiresAt, addSeconds(now, -EXPIRED_OTP_RETENTION_SECONDS)))
    .returning({ id: passwordResetTokens.id });
  const counters = await db
    .delete(rateLimitCounters)
    .where(lte(rateLimitCounters.windowStartedAt, addSeconds(now, -RATE_LIMIT_RETENTION_SECONDS)))
    .returning({ key: rateLimitCounters.key });
  const mails = await db
    .delete(mailOutbox)
    .where(and(inArray(mailOutbox.status, ['sent', 'failed']), lte(mailOutbox.createdAt, addSeconds(now, -FINISHED_MAIL_RETENTION_SECONDS))))
    .returning({ id: mailOutbox.id });
  const challenges = await db.delete(webauthnChallenges).where(lte(webauthnChallenges.expiresAt, now)).returning({ sessionUid: webauthnChallenges.sessionUid });
  return {
    oidcModels: models.length,
    revokedGrants: tombstones.length,
    emailOtpChallenges: otps.length,
    passwordResetTokens: resetLinks.length,
    rateLimitCounters: counters.length,
    mailOutbox: mails.length,
    webauthnChallenges: challenges.length,
  };
}
