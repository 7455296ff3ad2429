/**
 * {@link PasswordResetStore} on PostgreSQL. Issuing inserts; after delivery, under the account row's lock, the
 * link is marked delivered and every other delivered (or older) unconsumed link of the account and purpose is
 * consumed, so even concurrent deliveries leave exactly one usable link: the newest delivered one.
 * Using a link is a conditional `UPDATE … WHERE consumed_at IS NULL AND expires_at > now … RETURNING` and the
 * password update in the same transaction: exactly one of any number of concurrent callers wins. The same
 * transaction clears the lockout and revokes every grant and IdP session of the account, so a crash can never
 * leave a changed password with the old sessions still alive.
 */
import { and, desc, eq, gt, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
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
      return db.transaction(async (tx) => {
        // The account row lock serializes deliveries of one account, so each sees every delivery committed before it.
        await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, token.accountId)).for('update');
        await tx.update(passwordResetTokens).set({ deliveredAt: now }).where(and(eq(passwordResetTokens.id, token.id), isNull(passwordResetTokens.consumedAt)));
        const ofAccount = and(eq(passwordResetTokens.accountId, token.accountId), eq(passwordResetTokens.purpose, token.purpose));
        const [newest] = await tx
          .select({ id: passwordResetTokens.id, createdAt: passwordResetTokens.createdAt })
          .from(passwordResetTokens)
          .where(and(ofAccount, isNull(passwordResetTokens.consumedAt), isNotNull(passwordResetTokens.deliveredAt)))
          .orderBy(desc(passwordResetTokens.createdAt), desc(passwordResetTokens.id))
          .limit(1);
        if (!newest) return 0;
        // Every other unconsumed link that was delivered, or created before the newest delivered one (still
        // being delivered: it would arrive superseded anyway).
        const superseded = await tx
          .update(passwordResetTokens)
          .set({ consumedAt: now })
          .where(
            and(
              ofAccount,
              isNull(passwordResetTokens.consumedAt),
              ne(passwordResetTokens.id, newest.id),
              or(isNotNull(passwordResetTokens.deliveredAt), sql`(${passwordResetTokens.createdAt}, ${passwordResetTokens.id}) < (${newest.createdAt.toISOString()}::timestamptz, ${newest.id}::uuid)`),
            ),
          )
          .returning({ id: passwordResetTokens.id });
        return superseded.length;
      });
    },

    async withdraw(tokenHash, now) {
      await db.update(passwordResetTokens).set({ consumedAt: now }).where(and(eq(passwordResetTokens.tokenHash, tokenHash), isNull(passwordResetTokens.consumedAt)));
    },

    async findByHash(tokenHash) {
      const [row] = await db.select().from(passwordResetTokens).where(eq(passwordResetTokens.tokenHash, tokenHash));
      if (!row) return null;
      const { deliveredAt: _deliveredAt, ...token } = row;
      return token;
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
