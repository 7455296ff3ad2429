/**
 * What a confirmed request changes, run inside the transaction of its transition (storage's
 * {@link ChangeApplier}), and the audit events it yields — which the caller writes in that transaction too
 * (`recordInTransaction`) and publishes once it has committed.
 * Suspending or closing an account ends its sessions and grants in the same transaction (design/security.md §9).
 * Changing functions revokes the grants that released the old ones (their refresh and opaque access tokens), so
 * clients that copied them sign the person in again; the IdP session stays (docs/policies.md).
 */
import { DomainError } from '../../lib/index.js';
import type { EventInput } from '../events.js';
import type { AccountStatus } from '../model.js';
import type { ChangeRequest } from './model.js';
import type { PayloadOf } from './payloads.js';
import { applySftpChange, disableKeysIfSftpRemoved } from './sftp.js';
import type { ChangeApplier } from './stores.js';

/** Status changes: the status each type sets and the one it requires before. */
const STATUS_CHANGES = {
  suspend_account: { to: 'suspended', from: ['active'], event: 'account.suspended' },
  reactivate_account: { to: 'active', from: ['suspended'], event: 'account.reactivated' },
  close_account: { to: 'closed', from: ['active', 'suspended'], event: 'account.closed' },
} as const satisfies Record<string, { to: AccountStatus; from: readonly AccountStatus[]; event: EventInput['type'] }>;

/**
 * Resets the account's second factor: removes its authenticator app and its passkeys, so it signs in with
 * emailed codes (and is asked to register again where a rule requires a passkey). @returns the data of the
 * `authenticator.reset` event: `removed` (an app was registered), `passkeysRemoved`, `passkeyNames`.
 */
export async function resetSecondFactor(applier: ChangeApplier, accountId: string, now: Date): Promise<{ removed: boolean; passkeysRemoved: number; passkeyNames: string[] }> {
  const removed = await applier.removeAuthenticators(accountId);
  const passkeyNames = await applier.removePasskeys(accountId, now);
  return { removed, passkeysRemoved: passkeyNames.length, passkeyNames };
}

/**
 * Applies `request` (already moved to its new status, `accountId` set) through `applier`.
 * @param actor - who applied it: the checker's account id or the operator's actor string.
 * @returns the audit events of the change (`account.created`, `account.functions_changed`, `account.suspended`, …).
 * @throws DomainError `quota_exceeded`, `conflict` (user ID/email taken, or the account's status changed meanwhile),
 *   `not_found` (membership gone); the transaction then rolls back.
 */
export async function applyChange(applier: ChangeApplier, request: ChangeRequest, quota: number, actor: string, now: Date): Promise<EventInput[]> {
  const accountId = request.accountId!;
  const base = { accountId, organizationId: request.organizationId, actor };
  const data = { changeRequestId: request.id, reference: request.reference, makerId: request.makerId };
  switch (request.type) {
    case 'create_account': {
      const p = request.payload as PayloadOf<'create_account'>;
      const account = { id: accountId, userId: p.userId, name: p.name, email: p.email, phone: p.phone, status: 'active' as const, passwordHash: null, operator: false, createdAt: now, updatedAt: now };
      await applier.createAccount(account, { accountId, organizationId: request.organizationId, functions: p.functions, delegatedAdministrator: false, createdAt: now }, quota);
      return [{ type: 'account.created', ...base, data: { ...data, userId: p.userId, functions: p.functions, delegatedAdministrator: false } }];
    }
    case 'change_functions': {
      const p = request.payload as PayloadOf<'change_functions'>;
      const before = await applier.setFunctions(accountId, request.organizationId, p.functions);
      const same = before.length === p.functions.length && before.every((f) => p.functions.includes(f));
      const { grants, clients } = same ? { grants: 0, clients: [] } : await applier.revokeFunctionGrants(accountId, now);
      // Losing EU_ECPSFTP disables the account's SFTP keys in this transaction (issue 14 §1).
      const disabled = await disableKeysIfSftpRemoved(applier, before, p.functions, base, data, now);
      return [{ type: 'account.functions_changed', ...base, data: { ...data, before, after: p.functions, grants, clients } }, ...disabled];
    }
    case 'suspend_account':
    case 'reactivate_account':
    case 'close_account': {
      const change = STATUS_CHANGES[request.type];
      const previous = await applier.setStatus(accountId, change.to, now);
      if (!(change.from as readonly AccountStatus[]).includes(previous)) throw new DomainError('conflict', `The account is ${previous}; ${request.title} no longer applies.`);
      const ended = change.to === 'active' ? {} : await applier.endSessions(accountId, now);
      return [{ type: change.event, ...base, data: { ...data, ...ended } }];
    }
    case 'unlock_account':
      return [{ type: 'account.unlocked', ...base, data: { ...data, wasLocked: await applier.unlock(accountId, now) } }];
    case 'reset_second_factor':
      return [{ type: 'authenticator.reset', ...base, data: { ...data, ...(await resetSecondFactor(applier, accountId, now)) } }];
    case 'appoint_delegated_administrator':
    case 'remove_delegated_administrator': {
      const appoint = request.type === 'appoint_delegated_administrator';
      await applier.setDelegatedAdministrator(accountId, request.organizationId, appoint);
      return [{ type: appoint ? 'account.delegated_administrator_appointed' : 'account.delegated_administrator_removed', ...base, data }];
    }
    case 'register_sftp_key':
    case 'remove_sftp_key':
    case 'add_sftp_source_range':
    case 'remove_sftp_source_range':
      return [await applySftpChange(applier, request, base, data, now)];
  }
}
