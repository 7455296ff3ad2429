/**
 * {@link PasskeyStore} on PostgreSQL (tables `webauthn_credentials` and `webauthn_challenges`). Removal and
 * recording a use are each one conditional UPDATE and consuming a challenge one `DELETE … RETURNING`, so each
 * succeeds once across every connection and instance.
 */
import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Passkey, PasskeyStore } from '../identity/index.js';
import { DomainError } from '../lib/index.js';
import type { Db } from './database.js';
import { isUuid, uniqueViolation } from './postgres-errors.js';
import { webauthnChallenges as challenges, webauthnCredentials as credentials } from './schema.js';

type Row = typeof credentials.$inferSelect;

const toModel = (row: Row): Passkey => ({
  id: row.id, accountId: row.accountId, credentialId: row.credentialId, publicKey: row.publicKey, counter: row.counter,
  transports: row.transports as Passkey['transports'], aaguid: row.aaguid, deviceType: row.deviceType, backedUp: row.backedUp,
  name: row.name, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, removedAt: row.removedAt,
});

/** Creates the store over `db`. */
export function createPasskeyStore(db: Db): PasskeyStore {
  return {
    async listActive(accountId) {
      if (!isUuid(accountId)) return [];
      const rows = await db.select().from(credentials).where(and(eq(credentials.accountId, accountId), isNull(credentials.removedAt))).orderBy(asc(credentials.createdAt), asc(credentials.id));
      return rows.map(toModel);
    },

    async add(p) {
      try {
        await db.insert(credentials).values({
          id: p.id, accountId: p.accountId, credentialId: p.credentialId, publicKey: p.publicKey, counter: p.counter, transports: p.transports,
          aaguid: p.aaguid, deviceType: p.deviceType, backedUp: p.backedUp, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, removedAt: p.removedAt,
        });
      } catch (error) {
        if (uniqueViolation(error) === null) throw error;
        throw new DomainError('conflict', 'This passkey is already registered.', { cause: error });
      }
    },

    async remove(accountId, id, now) {
      if (!isUuid(accountId) || !isUuid(id)) return null;
      const [row] = await db.update(credentials).set({ removedAt: now })
        .where(and(eq(credentials.id, id), eq(credentials.accountId, accountId), isNull(credentials.removedAt))).returning();
      return row ? toModel({ ...row, removedAt: null }) : null;
    },

    async saveChallenge(c) {
      await db.insert(challenges).values(c).onConflictDoUpdate({
        target: [challenges.sessionUid, challenges.purpose],
        set: { accountId: sql`excluded.account_id`, challenge: sql`excluded.challenge`, expiresAt: sql`excluded.expires_at` },
      });
    },

    async consumeChallenge(sessionUid, accountId, purpose, now) {
      if (accountId !== null && !isUuid(accountId)) return null;
      const [row] = await db.delete(challenges)
        .where(and(eq(challenges.sessionUid, sessionUid), eq(challenges.purpose, purpose), accountId === null ? isNull(challenges.accountId) : eq(challenges.accountId, accountId)))
        .returning({ challenge: challenges.challenge, expiresAt: challenges.expiresAt });
      return row && row.expiresAt > now ? row.challenge : null;
    },

    async findChallenge(sessionUid, accountId, purpose, now) {
      if (!isUuid(accountId)) return null;
      const [row] = await db.select({ challenge: challenges.challenge, expiresAt: challenges.expiresAt }).from(challenges)
        .where(and(eq(challenges.sessionUid, sessionUid), eq(challenges.purpose, purpose), eq(challenges.accountId, accountId)));
      return row && row.expiresAt > now ? row.challenge : null;
    },

    async findByCredentialId(credentialId) {
      const [row] = await db.select().from(credentials).where(and(eq(credentials.credentialId, credentialId), isNull(credentials.removedAt))).limit(1);
      return row ? toModel(row) : null;
    },

    async recordUse(id, use) {
      if (!isUuid(id)) return false;
      // The counter must grow; an authenticator that keeps none (0) may answer 0 again (WebAuthn Level 3 §6.1.1).
      const rows = await db.update(credentials).set({ counter: use.counter, backedUp: use.backedUp, lastUsedAt: use.now })
        .where(and(eq(credentials.id, id), isNull(credentials.removedAt), or(lt(credentials.counter, use.counter), and(eq(credentials.counter, 0), sql`${use.counter} = 0`))))
        .returning({ id: credentials.id });
      return rows.length === 1;
    },
  };
}
