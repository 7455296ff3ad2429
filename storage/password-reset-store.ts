/**
 * {@link PasswordResetStore} on PostgreSQL. Issuing inserts the link and its outbox message in one transaction;
 * after delivery (the outbox's `markSent` runs {@link supersedeOlderOn} in its transaction), under the account row's lock, the
 * link is marked delivered and every other delivered (or older) unconsumed link of the account and purpose is
 * consumed, so even concurrent deliveries leave exactly one usable link: the newest delivered one.
 * Using a link is a conditional `UPDATE … WHERE consumed_at IS NULL AND expires_at > now … RETURNING` and the
 * password update in the same transaction: exactly one of any number of concurrent callers wins. The same
 * transaction clears the lockout and revokes every grant and IdP session of the account, so a crash can never
 * leave a changed password with the old sessions still alive.
 */
import { and, desc, eq, gt, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import type { PasswordResetStore } from '../identity/index.js';
import type { Db, Tx } from './database.js';
import { withdrawPendingOn, type OutboxWriter } from './mail-outbox-store.js';
import { isUuid } from './postgres-errors.js';
import { clearLockoutOn } from './lockout-store.js';
import { revokeAccountGrantsOn } from './oidc-grant-revocation.js';
import { accounts, passwordResetTokens } from './schema.js';

/**
 * On `tx`: records that link `id`'s email was delivered and leaves only the newest delivered link of its account
 * and purpose usable (see {@link PasswordResetStore.supersedeOlder}). @returns how many were superseded.
 */
export async function supersedeOlderOn(tx: Tx, id: string, now: Date): Promise<number> {
  if (!isUuid(id)) return 0;
  const [token] = await tx.select({ accountId: passwordResetTokens.accountId, purpose: passwordResetTokens.purpose }).from(passwordResetTokens).where(eq(passwordResetTokens.id, id));
  if (!token) return 0;
  // The account row lock serializes deliveries of one account, so each sees every delivery committed before it.
  await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, token.accountId)).for('update');
  await tx.update(passwordResetTokens).set({ deliveredAt: now }).where(and(eq(passwordResetTokens.id, id), isNull(passwordResetTokens.consumedAt)));
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
}

/** Creates the reset-link store over `db`; `outbox` writes each link's email in the link's transaction. */
export function createPasswordResetStore(db: Db, outbox?: OutboxWriter): PasswordResetStore {
  return {
    async issue(token, mail) {
      if (!mail) {
        await db.insert(passwordResetTokens).values(token);
        return;
      }
      if (!outbox) throw new Error('this reset-link store was created without an outbox');
      await db.transaction(async (tx) => {
        // Earlier links of the account and purpose whose email never left are replaced by this one (withdrawn and
        // consumed), unless a worker is sending one right now: an outage does not pile up links.
        const waiting = await tx
          .select({ id: passwordResetTokens.id })
          .from(passwordResetTokens)
          .where(and(eq(passwordResetTokens.accountId, token.accountId), eq(passwordResetTokens.purpose, token.purpose), isNull(passwordResetTokens.consumedAt), isNull(passwordResetTokens.deliveredAt)));
        const withdrawn = await withdrawPendingOn(tx, mail.purpose, waiting.map((t) => t.id));
        for (const id of withdrawn) await tx.update(passwordResetTokens).set({ consumedAt: token.createdAt }).where(eq(passwordResetTokens.id, id));
        await tx.insert(passwordResetTokens).values(token);
        await outbox.enqueueOn(tx, mail, token.createdAt);
      });
    },

    supersedeOlder: (token, now) => db.transaction((tx) => supersedeOlderOn(tx, token.id, now)),

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
