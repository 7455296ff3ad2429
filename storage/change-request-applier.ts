/**
 * {@link ChangeApplier} on a transaction: the changes a confirmed change request makes, committed together
 * with its status change and its audit events. Account creation reuses the account store's organization-row lock and count
 * (design/security.md §8); ending sessions, and revoking the grants that released changed functions, reuse the
 * grant revocation (design/security.md §9).
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { ChangeApplier } from '../identity/index.js';
import { DomainError } from '../lib/index.js';
import { insertUnderQuota } from './account-store.js';
import { appendAuditEventsOn } from './audit-store.js';
import type { Executor } from './database.js';
import { clearLockoutOn } from './lockout-store.js';
import { revokeAccountGrantsOn, revokeFunctionGrantsOn } from './oidc-grant-revocation.js';
import { accounts, authenticatorRegistrations, memberships, webauthnCredentials } from './schema.js';
import { createSftpApplier } from './sftp-store.js';

const noMembership = () => new DomainError('not_found', 'The account is no longer a member of this organization.');

/** Creates the applier over `tx` (a transaction the caller opened). */
export function createChangeApplier(tx: Executor): ChangeApplier {
  const membership = (accountId: string, organizationId: string) => and(eq(memberships.accountId, accountId), eq(memberships.organizationId, organizationId));
  return {
    createAccount: (account, first, quota) => insertUnderQuota(tx, account, first, quota),

    async setFunctions(accountId, organizationId, functions) {
      const [before] = await tx.select({ functions: memberships.functions }).from(memberships).where(membership(accountId, organizationId)).for('update');
      if (!before) throw noMembership();
      await tx.update(memberships).set({ functions }).where(membership(accountId, organizationId));
      return before.functions;
    },

    async setStatus(accountId, status, now) {
      const [before] = await tx.select({ status: accounts.status }).from(accounts).where(eq(accounts.id, accountId)).for('update');
      if (!before) throw new DomainError('not_found', 'The account does not exist.');
      await tx.update(accounts).set({ status, updatedAt: now }).where(eq(accounts.id, accountId));
      return before.status;
    },

    async setDelegatedAdministrator(accountId, organizationId, value) {
      const updated = await tx.update(memberships).set({ delegatedAdministrator: value }).where(membership(accountId, organizationId)).returning({ accountId: memberships.accountId });
      if (updated.length === 0) throw noMembership();
    },

    unlock: (accountId, now) => clearLockoutOn(tx, accountId, now),

    async removeAuthenticators(accountId) {
      const removed = await tx.delete(authenticatorRegistrations).where(eq(authenticatorRegistrations.accountId, accountId)).returning({ status: authenticatorRegistrations.status });
      return removed.some((r) => r.status === 'confirmed');
    },

    async removePasskeys(accountId, now) {
      const removed = await tx.update(webauthnCredentials).set({ removedAt: now })
        .where(and(eq(webauthnCredentials.accountId, accountId), isNull(webauthnCredentials.removedAt)))
        .returning({ name: webauthnCredentials.name, createdAt: webauthnCredentials.createdAt });
      return removed.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((p) => p.name);
    },

    endSessions: (accountId, now) => revokeAccountGrantsOn(tx, accountId, now),

    revokeFunctionGrants: (accountId, now) => revokeFunctionGrantsOn(tx, accountId, now),

    recordEvents: (events) => appendAuditEventsOn(tx, events),

    ...createSftpApplier(tx),
  };
}

