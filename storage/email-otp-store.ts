/**
 * {@link EmailOtpStore} on PostgreSQL. Codes are stored as SHA-256 hashes by the caller; consumption is a
 * conditional UPDATE, so exactly one of any number of concurrent callers consumes a challenge.
 */
import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { EmailOtpStore } from '../identity/index.js';
import type { Db } from './database.js';
import { isUuid } from './postgres-errors.js';
import { emailOtpChallenges } from './schema.js';

/** Creates the email OTP store over `db`. */
export function createEmailOtpStore(db: Db): EmailOtpStore {
  return {
    async issue(challenge, replaces) {
      return db.transaction(async (tx) => {
        if (replaces !== undefined) {
          // Row lock on the replaced code: of concurrent resends, the first to commit replaces it; the others find it
          // consumed and issue nothing.
          const replaced = await tx
            .update(emailOtpChallenges)
            .set({ consumedAt: challenge.createdAt })
            .where(and(eq(emailOtpChallenges.id, replaces), eq(emailOtpChallenges.bindingId, challenge.bindingId), isNull(emailOtpChallenges.consumedAt)))
            .returning({ id: emailOtpChallenges.id });
          if (replaced.length === 0) return false;
        }
        await tx
          .update(emailOtpChallenges)
          .set({ consumedAt: challenge.createdAt })
          .where(and(eq(emailOtpChallenges.accountId, challenge.accountId), eq(emailOtpChallenges.bindingId, challenge.bindingId), isNull(emailOtpChallenges.consumedAt)));
        await tx.insert(emailOtpChallenges).values(challenge);
        return true;
      });
    },

    async findLatest(accountId, bindingId) {
      if (!isUuid(accountId)) return null;
      const [row] = await db
        .select()
        .from(emailOtpChallenges)
        .where(and(eq(emailOtpChallenges.accountId, accountId), eq(emailOtpChallenges.bindingId, bindingId)))
        .orderBy(desc(emailOtpChallenges.createdAt))
        .limit(1);
      return row ?? null;
    },

    async consume(id, now) {
      if (!isUuid(id)) return false;
      const consumed = await db
        .update(emailOtpChallenges)
        .set({ consumedAt: now })
        .where(and(eq(emailOtpChallenges.id, id), isNull(emailOtpChallenges.consumedAt), gt(emailOtpChallenges.expiresAt, now)))
        .returning({ id: emailOtpChallenges.id });
      return consumed.length === 1;
    },
  };
}
