/**
 * The account a request is about, and whether the change still makes sense for it: checked when a draft is
 * saved (the account must be in the organization), again at submission (status, quota, unique user ID and
 * email), and the database enforces the rest when the change is applied.
 */
import { DomainError } from '../../lib/index.js';
import type { Account, Membership } from '../model.js';
import type { ChangeRequestContext } from './context.js';
import type { ChangeRequestType } from './model.js';
import { titleFor, type PayloadOf } from './payloads.js';
import { checkSftpRequest, isSftpType } from './sftp.js';

/** The target account and its membership in the request's organization. */
export interface Target {
  account: Account;
  membership: Membership;
}

/**
 * The account `payload.accountId` with its membership in `organizationId`.
 * @throws DomainError `not_found` (fieldErrors.accountId) when there is no such account in the organization.
 */
export async function findTarget(ctx: ChangeRequestContext, organizationId: string, accountId: string): Promise<Target> {
  const account = await ctx.accounts.findById(accountId);
  const membership = account ? (await ctx.accounts.listMemberships(account.id)).find((m) => m.organizationId === organizationId) : undefined;
  if (!account || !membership) throw new DomainError('not_found', 'No such account in this organization.', { fieldErrors: { accountId: ['Choose an account of this organization.'] } });
  return { account, membership };
}

/** The title and target account id of a request of `type` with `payload`. @throws as {@link findTarget}. */
export async function describe(ctx: ChangeRequestContext, organizationId: string, type: ChangeRequestType, payload: Record<string, unknown>): Promise<{ title: string; accountId: string | null }> {
  if (type === 'create_account') {
    const data = payload as PayloadOf<'create_account'>;
    return { title: titleFor(type, data), accountId: null };
  }
  const target = await findTarget(ctx, organizationId, (payload as { accountId: string }).accountId);
  const { account } = target;
  // An SFTP request is checked against the account at once, and its title names the key or range.
  if (isSftpType(type)) return { title: titleFor(type, account, await checkSftpRequest(ctx, type, payload, target)), accountId: account.id };
  return { title: titleFor(type, account), accountId: account.id };
}

/** Why `type` cannot apply to the target now, or null when it can. */
export function precondition(type: ChangeRequestType, { account, membership }: Target): string | null {
  const who = account.userId;
  if (account.status === 'closed' && type !== 'create_account') return `${who} is closed.`;
  if (type === 'suspend_account' && account.status !== 'active') return `${who} is not active (it is ${account.status}).`;
  if (type === 'reactivate_account' && account.status !== 'suspended') return `${who} is not suspended.`;
  if (type === 'appoint_delegated_administrator' && membership.delegatedAdministrator) return `${who} is already a delegated administrator.`;
  if (type === 'remove_delegated_administrator' && !membership.delegatedAdministrator) return `${who} is not a delegated administrator.`;
  return null;
}

/**
 * Checks at submission that the change can still be applied.
 * @throws DomainError `quota_exceeded` ("The organization has 20 of 20 accounts; the limit is 20."),
 *   `conflict` (user ID or email taken, with fieldErrors; or the account's state forbids the change), `not_found`.
 */
export async function checkSubmittable(ctx: ChangeRequestContext, organizationId: string, type: ChangeRequestType, payload: Record<string, unknown>): Promise<void> {
  if (type !== 'create_account') {
    const target = await findTarget(ctx, organizationId, (payload as { accountId: string }).accountId);
    const problem = precondition(type, target);
    if (problem) throw new DomainError('conflict', problem);
    if (isSftpType(type)) await checkSftpRequest(ctx, type, payload, target);
    return;
  }
  const data = payload as PayloadOf<'create_account'>;
  const existing = await ctx.accounts.countInOrganization(organizationId);
  if (existing >= ctx.quota) throw new DomainError('quota_exceeded', `The organization has ${existing} of ${ctx.quota} accounts; the limit is ${ctx.quota}.`);
  if (await ctx.accounts.findByLogin(data.userId)) {
    throw new DomainError('conflict', `The user ID "${data.userId}" is already taken.`, { fieldErrors: { userId: ['This user ID is already taken.'] } });
  }
  if (await ctx.accounts.findByLogin(data.email)) {
    throw new DomainError('conflict', `The email address ${data.email} is already registered.`, { fieldErrors: { email: ['This email address is already registered to an account.'] } });
  }
}
