/**
 * The operator's end of a request that needs them (appointing or removing a DA, design/domain.md; an
 * account-wide change to an account shared with another organization, docs/policies.md): complete it — the
 * change and its audit events are written in the transaction of the transition, and its mails and back-channel logouts follow as
 * when a checker completes one — or reject it with a comment. The caller (the console) has already
 * established that `operator` holds the operator role.
 */
import { DomainError } from '../../lib/index.js';
import { notifyAccountHolder } from '../authenticators/notify.js';
import { afterApplied } from './after-applied.js';
import { applyChange, resetSecondFactor } from './apply.js';
import { parseField, rejectionComment, stepMessage, type ChangeRequestContext } from './context.js';
import type { ChangeRequestView } from './model.js';
import { notifyMaker } from './notify.js';
import { publishTransition, recordInTransaction, transitionEvent } from './publish.js';
import { refusal } from './refusals.js';
import { step, transitionOrExplain } from './transition.js';

async function sentToOperator(ctx: ChangeRequestContext, requestId: string): Promise<ChangeRequestView> {
  const request = await ctx.changeRequests.findById(requestId);
  if (!request) throw new DomainError('not_found', 'No such change request.');
  return request;
}

/**
 * Applies a request in `sent_to_operator` and completes it.
 * @param operator - the operator's actor string for the audit log, e.g. `operator:<account id>`.
 * @throws DomainError `not_found`, `conflict` (not waiting for the operator, or the account's state changed).
 */
export async function completeByOperator(ctx: ChangeRequestContext, operator: string, requestId: string, input: { message?: string } = {}): Promise<ChangeRequestView> {
  const request = await sentToOperator(ctx, requestId);
  const message = parseField(stepMessage, 'message', input.message);
  const now = ctx.clock.now();
  const change = { status: 'completed' as const, completedAt: now, step: step('completed', 'completed', operator, now, message) };
  const done = await ctx.changeRequests.transitionAndApply(request.id, { from: ['sent_to_operator'] }, change, async (applier, r) =>
    recordInTransaction(ctx, applier, [transitionEvent('change_request.completed', r, { operator }), ...(await applyChange(applier, r, ctx.quota, operator, now))]),
  );
  if (!done) throw refusal((await ctx.changeRequests.findById(request.id))!, operator, 'complete', ctx.timeZone);
  await afterApplied(ctx, done.request, done.applied);
  await notifyMaker(ctx, done.request);
  return (await ctx.changeRequests.findById(requestId))!;
}

/** Rejects a request in `sent_to_operator`. @throws DomainError `validation_failed` (fieldErrors.comment), `not_found`, `conflict`. */
export async function rejectByOperator(ctx: ChangeRequestContext, operator: string, requestId: string, comment: string): Promise<ChangeRequestView> {
  const text = parseField(rejectionComment, 'comment', comment);
  const request = await sentToOperator(ctx, requestId);
  const now = ctx.clock.now();
  const updated = await transitionOrExplain(ctx, request, operator, 'reject', { from: ['sent_to_operator'] }, { status: 'rejected', decidedAt: now, step: step('rejected', 'rejected', operator, now, text) });
  await publishTransition(ctx, 'change_request.rejected', updated, { operator }, { comment: text });
  await notifyMaker(ctx, updated, text);
  return (await ctx.changeRequests.findById(requestId))!;
}

/** What {@link resetSecondFactorDirectly} removed, and whether the account holder was emailed. */
export interface SecondFactorReset {
  /** An authenticator app was registered (and is gone). */
  removed: boolean;
  /** How many passkeys were removed. */
  passkeysRemoved: number;
  /** Their names, oldest first. */
  passkeyNames: string[];
  /** The account holder was emailed (false when nothing was removed, or the mail could not be queued). */
  notified: boolean;
}

/**
 * The operator resets an account's second factor directly (the operator CLI's `account reset-factor`, no
 * maker-checker): the same change as a confirmed `reset_second_factor` request — the authenticator app and
 * every passkey removed in one transaction — then the holder is emailed (when anything was removed) and
 * `authenticator.reset` is published.
 * @throws DomainError `not_found` for an unknown account.
 */
export async function resetSecondFactorDirectly(ctx: ChangeRequestContext, operator: string, accountId: string): Promise<SecondFactorReset> {
  const account = await ctx.accounts.findById(accountId);
  if (!account) throw new DomainError('not_found', 'No such account.');
  const now = ctx.clock.now();
  const reset = await ctx.changeRequests.applyDirectly((applier) => resetSecondFactor(applier, account.id, now));
  const what = [reset.removed ? 'your authenticator app' : null, reset.passkeysRemoved > 0 ? `your passkeys (${reset.passkeyNames.join(', ')})` : null].filter(Boolean).join(' and ');
  const notified = what
    ? await notifyAccountHolder(ctx.mailer, ctx.displayName, account, 'your second factor was reset', `An administrator reset your second factor: ${what} were removed. Sign-in now sends a one-time code to this email address; you may register an app or a passkey again from your account page.`)
    : false;
  await ctx.events.publish({ type: 'authenticator.reset', accountId: account.id, actor: operator, data: { ...reset, notified } }, now);
  return { ...reset, notified };
}
