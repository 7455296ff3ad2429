/**
 * {@link PasswordResetStore} on PostgreSQL. Issuing inserts; superseding (after delivery) consumes every older
 * unconsumed link of the account and purpose in one conditional UPDATE ordered by (created_at, id), so even
 * concurrent deliveries leave exactly one usable link, the newest.
 * Using a link is a conditional `UPDATE … WHERE consumed_at IS NULL AND expires_at > now … RETURNING` and the
 * password update in the same transaction: exactly one of any number of concurrent callers wins. The same
 * transaction clears the lockout and revokes every grant and IdP session of the account, so a crash can never
 * leave a changed password with the old sessions still alive.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { PasswordResetStore } from '../identity/index.js';
import type { Db } from './database.js';
import { clearLockoutOn } from './lockout-store.js';
import { revokeAccountGrantsOn } from './oidc-grant-revocation.js';
import { accounts, passwordResetTokens } from './schema.js';

/** Creates the reset-link store over `db`. */
export function createPasswordResetStore(db: Db): PasswordResetStore {
  return {
    async issue(token) {
      await db.insert(passwordResetTokens).values(token);
    },

    async supersedeOlder(token, now) {
      // Row-value comparison orders links by (created_at, id): of links delivered concurrently, the newest survives.
      const superseded = await db
        .update(passwordResetTokens)
        .set({ consumedAt: now })
        .where(
          and(
            eq(passwordResetTokens.accountId, token.accountId),
            eq(passwordResetTokens.purpose, token.purpose),
            isNull(passwordResetTokens.consumedAt),
            sql`(${passwordResetTokens.createdAt}, ${passwordResetTokens.id}) < (${token.createdAt.toISOString()}::timestamptz, ${token.id}::uuid)`,
          ),
        )
        .returning({ id: passwordResetTokens.id });
      return superseded.length;
    },

    async withdraw(tokenHash, now) {
      await db.update(passwordResetTokens).set({ consumedAt: now }).where(and(eq(passwordResetTokens.tokenHash, tokenHash), isNull(passwordResetTokens.consumedAt)));
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
        const { accountId } = used;
        await tx.update(accounts).set({ passwordHash, updatedAt: now }).where(eq(accounts.id, accountId));
        const wasLocked = await clearLockoutOn(tx, accountId, now);
        const ended = await revokeAccountGrantsOn(tx, accountId, now);
        return { accountId, wasLocked, ...ended };
      });
    },
  };
}
