/**
 * {@link PasswordResetStore} on PostgreSQL. Issuing locks the account row, consumes the account's older links
 * and inserts the new one in one transaction, so even concurrent requests leave exactly one usable link.
 * Using a link is a conditional `UPDATE … WHERE consumed_at IS NULL AND expires_at > now … RETURNING` and the
 * password update in the same transaction: exactly one of any number of concurrent callers wins.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { PasswordResetStore } from '../identity/index.js';
import type { Db } from './database.js';
import { accounts, passwordResetTokens } from './schema.js';

/** Creates the reset-link store over `db`. */
export function createPasswordResetStore(db: Db): PasswordResetStore {
  return {
    async issue(token) {
      await db.transaction(async (tx) => {
        await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, token.accountId)).for('update');
        await tx
          .update(passwordResetTokens)
          .set({ consumedAt: token.createdAt })
          .where(and(eq(passwordResetTokens.accountId, token.accountId), eq(passwordResetTokens.purpose, token.purpose), isNull(passwordResetTokens.consumedAt)));
        await tx.insert(passwordResetTokens).values(token);
      });
    },

    async findByHash(tokenHash) {
      const [row] = await db.select().from(passwordResetTokens).where(eq(passwordResetTokens.tokenHash, tokenHash));
      return row ?? null;
    },

    async consumeAndSetPassword(tokenHash, passwordHash, now) {
      return db.transaction(async (tx) => {
        const [used] = await tx
          .update(passwordResetTokens)
          .set({ consumedAt: now })
          .where(and(eq(passwordResetTokens.tokenHash, tokenHash), isNull(passwordResetTokens.consumedAt), gt(passwordResetTokens.expiresAt, now)))
          .returning({ accountId: passwordResetTokens.accountId });
        if (!used) return null;
        await tx.update(accounts).set({ passwordHash, updatedAt: now }).where(eq(accounts.id, used.accountId));
        return used.accountId;
      });
    },
  };
}
