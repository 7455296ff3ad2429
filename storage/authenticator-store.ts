/**
 * {@link AuthenticatorStore} on PostgreSQL. Secrets are sealed with AES-256-GCM (lib/sealed-box) under the
 * current encryption key, bound to their registration and account (additional authenticated data); they are opened with the current key, then each previous key (key rotation: see
 * docs/authenticator.md and {@link resealAuthenticatorSecrets}). The replay guard is one conditional UPDATE,
 * so concurrent codes of one step succeed once across every connection and instance.
 */
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { AuthenticatorRegistration, AuthenticatorStore } from '../identity/index.js';
import { openWithAnyKey, seal, type SealingKeys } from '../lib/index.js';
import type { Db } from './database.js';
import { isUuid } from './postgres-errors.js';
import { accounts, authenticatorRegistrations as registrations } from './schema.js';

export type { SealingKeys };

type Row = typeof registrations.$inferSelect;

/** The context a secret is sealed for: its registration and account, so a secret copied to another row does not open. */
function secretContext(row: { id: string; accountId: string }): string {
  return `authenticator_registrations:${row.id}:${row.accountId}`;
}

/** Creates the store over `db`. */
export function createAuthenticatorStore(db: Db, keys: SealingKeys): AuthenticatorStore {
  const toModel = (row: Row): AuthenticatorRegistration => ({
    id: row.id, accountId: row.accountId, status: row.status, secret: openWithAnyKey(row.secretSealed, keys, secretContext(row)),
    createdAt: row.createdAt, confirmedAt: row.confirmedAt, lastUsedStep: row.lastUsedStep,
  });
  async function findByStatus(accountId: string, status: 'pending' | 'confirmed') {
    if (!isUuid(accountId)) return null;
    const [row] = await db.select().from(registrations).where(and(eq(registrations.accountId, accountId), eq(registrations.status, status)));
    return row ? toModel(row) : null;
  }

  return {
    findConfirmed: (accountId) => findByStatus(accountId, 'confirmed'),
    findPending: (accountId) => findByStatus(accountId, 'pending'),

    async savePending(r) {
      await db.transaction(async (tx) => {
        await tx.delete(registrations).where(and(eq(registrations.accountId, r.accountId), eq(registrations.status, 'pending')));
        await tx.insert(registrations).values({ id: r.id, accountId: r.accountId, status: 'pending', secretSealed: seal(r.secret, keys.current, secretContext(r)), createdAt: r.createdAt, confirmedAt: null, lastUsedStep: null });
      });
    },

    async confirm(pendingId, accountId, step, now) {
      if (!isUuid(pendingId) || !isUuid(accountId)) return undefined;
      return db.transaction(async (tx) => {
        // Lock the pending row: a concurrent confirmation waits, then finds it no longer pending.
        const [pending] = await tx.select({ id: registrations.id }).from(registrations)
          .where(and(eq(registrations.id, pendingId), eq(registrations.accountId, accountId), eq(registrations.status, 'pending'))).for('update');
        if (!pending) return undefined;
        const previous = await tx.delete(registrations).where(and(eq(registrations.accountId, accountId), eq(registrations.status, 'confirmed'))).returning({ confirmedAt: registrations.confirmedAt });
        await tx.update(registrations).set({ status: 'confirmed', confirmedAt: now, lastUsedStep: step }).where(eq(registrations.id, pendingId));
        return { previousConfirmedAt: previous[0]?.confirmedAt ?? null };
      });
    },

    async useStep(registrationId, step) {
      if (!isUuid(registrationId)) return false;
      const used = await db.update(registrations).set({ lastUsedStep: step })
        .where(and(eq(registrations.id, registrationId), eq(registrations.status, 'confirmed'), or(isNull(registrations.lastUsedStep), lt(registrations.lastUsedStep, step))))
        .returning({ id: registrations.id });
      return used.length === 1;
    },

    async removeConfirmed(accountId, registrationId) {
      if (!isUuid(accountId) || !isUuid(registrationId)) return false;
      const removed = await db.delete(registrations).where(and(eq(registrations.id, registrationId), eq(registrations.accountId, accountId), eq(registrations.status, 'confirmed'))).returning({ id: registrations.id });
      return removed.length === 1;
    },

    async removeAll(accountId) {
      if (!isUuid(accountId)) return false;
      const removed = await db.delete(registrations).where(eq(registrations.accountId, accountId)).returning({ status: registrations.status });
      return removed.some((r) => r.status === 'confirmed');
    },

    async findPreferredFactor(accountId) {
      if (!isUuid(accountId)) return 'email';
      const [row] = await db.select({ factor: accounts.preferredFactor }).from(accounts).where(eq(accounts.id, accountId));
      return row?.factor ?? 'email';
    },

    async setPreferredFactor(accountId, factor, now) {
      if (!isUuid(accountId)) return;
      await db.update(accounts).set({ preferredFactor: factor, updatedAt: now }).where(eq(accounts.id, accountId));
    },
  };
}

/**
 * Re-seals every authenticator secret under `keys.current` (key rotation, docs/authenticator.md). Each row is
 * opened with any configured key and rewritten only if its ciphertext is unchanged meanwhile (conditional UPDATE).
 * @returns how many rows were rewritten.
 * @throws Error when a secret cannot be opened with any key (nothing after it is rewritten).
 */
export async function resealAuthenticatorSecrets(db: Db, keys: SealingKeys): Promise<number> {
  const rows = await db.select({ id: registrations.id, accountId: registrations.accountId, secretSealed: registrations.secretSealed }).from(registrations);
  let count = 0;
  for (const row of rows) {
    const resealed = seal(openWithAnyKey(row.secretSealed, keys, secretContext(row)), keys.current, secretContext(row));
    const updated = await db.update(registrations).set({ secretSealed: resealed })
      .where(and(eq(registrations.id, row.id), eq(registrations.secretSealed, row.secretSealed))).returning({ id: registrations.id });
    count += updated.length;
  }
  return count;
}

