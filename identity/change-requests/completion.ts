/**
 * Who completes a confirmed change request (docs/policies.md). A delegated administrator acts for one
 * organization, so the checker completes only changes whose effect stays inside it: a new account, the
 * functions of the organization's own membership. Two kinds go to the operator after the checker confirms:
 * appointing or removing a DA (design/domain.md: "the operator appoints DAs"), and an *account-wide* change —
 * suspend, reactivate, unlock, reset the second factor, close — to an account that is also a member of another
 * organization, since it would change that account for the other organization too.
 */
import type { ChangeRequestContext } from './context.js';
import type { ChangeRequest, ChangeRequestType } from './model.js';
import { FINAL_STATUSES, OPERATOR_TYPES } from './model.js';

/** Types that change the account itself (its status, lockout or second factor), and so every organization it is a member of. */
export const ACCOUNT_WIDE_TYPES: readonly ChangeRequestType[] = ['suspend_account', 'reactivate_account', 'unlock_account', 'reset_second_factor', 'close_account'];

/** Why a request is the operator's to complete: its type, or a shared account. */
export type OperatorReason = 'operator_type' | 'shared_account';

/** What people read about each {@link OperatorReason} (request page, dashboard, the maker's mail). */
export const OPERATOR_REASON_MESSAGES: Record<OperatorReason, string> = {
  operator_type: 'The operator appoints and removes delegated administrators, so the operator completes this change.',
  shared_account: 'This account is also a member of another organization, so the operator completes this change.',
};

/** Who completes a request once the checker confirms it; `reason` is set when it is the operator. */
export interface Completion {
  by: 'checker' | 'operator';
  reason: OperatorReason | null;
}

/**
 * The rule itself, pure.
 * @param otherOrganizations - how many organizations other than the request's one the target account is a member of.
 */
export function completionFor(type: ChangeRequestType, otherOrganizations: number): Completion {
  if (OPERATOR_TYPES.includes(type)) return { by: 'operator', reason: 'operator_type' };
  if (ACCOUNT_WIDE_TYPES.includes(type) && otherOrganizations > 0) return { by: 'operator', reason: 'shared_account' };
  return { by: 'checker', reason: null };
}

/**
 * Why `request` went to the operator, read from the request alone (no lookup): null when it never was
 * `sent_to_operator`. An account-wide type only goes there for a shared account, so its type says why.
 */
export function operatorReasonOf(request: Pick<ChangeRequest, 'type' | 'steps'>): OperatorReason | null {
  if (!request.steps.some((s) => s.status === 'sent_to_operator')) return null;
  return OPERATOR_TYPES.includes(request.type) ? 'operator_type' : 'shared_account';
}

/**
 * Who completes `request`: for one that already went to the operator, why it did ({@link operatorReasonOf});
 * for a decided one that did not, the checker; otherwise the rule applied to the target account's memberships
 * as they are now (what confirming would do).
 */
export async function completionOf(ctx: Pick<ChangeRequestContext, 'accounts'>, request: Pick<ChangeRequest, 'type' | 'status' | 'steps' | 'accountId' | 'organizationId'>): Promise<Completion> {
  const sent = operatorReasonOf(request);
  if (sent) return { by: 'operator', reason: sent };
  if (FINAL_STATUSES.includes(request.status)) return { by: 'checker', reason: null };
  if (!ACCOUNT_WIDE_TYPES.includes(request.type) || !request.accountId) return completionFor(request.type, 0);
  const memberships = await ctx.accounts.listMemberships(request.accountId);
  return completionFor(request.type, memberships.filter((m) => m.organizationId !== request.organizationId).length);
}
