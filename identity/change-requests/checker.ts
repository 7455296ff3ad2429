/**
 * The checker's verbs (design/domain.md, design/security.md §8): claim a request made by another DA,
 * confirm exactly the version reviewed — which applies the change in the transaction of the transition —
 * or reject it with a comment. Maker ≠ checker is enforced here and again in the UPDATE's guard.
 */
import { DomainError, newId } from '../../lib/index.js';
import { afterApplied } from './after-applied.js';
import { applyChange } from './apply.js';
import { completionOf, OPERATOR_REASON_MESSAGES } from './completion.js';
import { getForActor, parseField, rejectionComment, stepMessage, type ChangeRequestActor, type ChangeRequestContext } from './context.js';
import type { ChangeRequest, ChangeRequestView } from './model.js';
import { notifyMaker } from './notify.js';
import { publishRecorded, publishTransition, recordInTransaction, transitionEvent } from './publish.js';
import { refusal, VERSION_CHANGED } from './refusals.js';
import { step, transitionOrExplain } from './transition.js';

const selfApproval = () => new DomainError('forbidden', 'You made this request; a different delegated administrator must check it.');

/** Claims a submitted request made by someone else. @throws DomainError `forbidden` (own request), `conflict` ("already claimed by <name> on <time>"). */
export async function claim(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string, input: { message?: string } = {}): Promise<ChangeRequestView> {
  const request = await getForActor(ctx, actor.accountId, requestId);
  const message = parseField(stepMessage, 'message', input.message);
  if (request.makerId === actor.accountId) throw selfApproval();
  const now = ctx.clock.now();
  const change = { status: 'claimed' as const, checkerId: actor.accountId, claimedAt: now, step: step('claimed', 'claimed', actor.accountId, now, message) };
  const updated = await transitionOrExplain(ctx, request, actor.accountId, 'claim', { from: ['ready_for_checker'], notMakerId: actor.accountId }, change);
  await publishTransition(ctx, 'change_request.claimed', updated, actor);
  return (await ctx.changeRequests.findById(requestId))!;
}

/** Runs `run`; when it fails with a DomainError, records `change_request.confirmation_refused` first. */
async function recordingRefusal<T>(ctx: ChangeRequestContext, request: ChangeRequest, actor: ChangeRequestActor, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DomainError) await publishTransition(ctx, 'change_request.confirmation_refused', request, actor, { reason: error.code === 'quota_exceeded' ? 'quota_exceeded' : error.message.startsWith(VERSION_CHANGED) ? 'version_changed' : 'conflict', message: error.message });
    throw error;
  }
}

/**
 * Confirms the claimed request at `reviewedVersion`: applies it and completes it (one transaction, with its
 * audit events; for `create_account` with the organization row locked), or sends it to the operator without
 * applying anything
 * ({@link completionOf}: DA appointment or removal, or an account-wide change to an account that is also a
 * member of another organization; docs/policies.md).
 * @throws DomainError `forbidden` (own request), `conflict` (not claimed by the actor, already decided, or
 *   "the request changed since you reviewed it"), `quota_exceeded` ("… has 20 of 20 accounts; the limit is 20."),
 *   `not_found`. On any of these nothing changes and the request stays claimed.
 */
export async function confirm(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string, reviewedVersion: number, input: { message?: string } = {}): Promise<ChangeRequestView> {
  const request = await getForActor(ctx, actor.accountId, requestId);
  const message = parseField(stepMessage, 'message', input.message);
  if (request.makerId === actor.accountId) {
    await publishTransition(ctx, 'change_request.confirmation_refused', request, actor, { reason: 'self_approval' });
    throw selfApproval();
  }
  const completion = await completionOf(ctx, request);
  const toOperator = completion.by === 'operator';
  const status = toOperator ? 'sent_to_operator' : 'completed';
  const now = ctx.clock.now();
  const guard = { from: ['claimed'] as const, checkerId: actor.accountId, notMakerId: actor.accountId, version: reviewedVersion };
  const change = { status, step: step('confirmed', status, actor.accountId, now, message), decidedAt: now, ...(toOperator ? {} : { completedAt: now, accountId: request.accountId ?? newId() }) } as const;
  const confirmed = { version: reviewedVersion, ...(completion.reason ? { operatorReason: completion.reason } : {}) };
  const { updated, recorded } = await recordingRefusal(ctx, request, actor, async () => {
    const done = await ctx.changeRequests.transitionAndApply(request.id, guard, change, async (applier, r) =>
      recordInTransaction(ctx, applier, [transitionEvent('change_request.confirmed', r, actor, confirmed), ...(toOperator ? [] : await applyChange(applier, r, ctx.quota, actor.accountId, now))]),
    );
    if (done) return { updated: done.request, recorded: done.applied };
    throw refusal((await ctx.changeRequests.findById(request.id))!, actor.accountId, 'confirm', ctx.timeZone, reviewedVersion);
  });
  if (toOperator) await publishRecorded(ctx, recorded);
  else await afterApplied(ctx, updated, recorded);
  await notifyMaker(ctx, updated, null, completion.reason ? OPERATOR_REASON_MESSAGES[completion.reason] : null);
  return (await ctx.changeRequests.findById(requestId))!;
}

/** Rejects the request the actor claimed. @throws DomainError `validation_failed` (fieldErrors.comment) without a comment, `conflict`. */
export async function reject(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string, comment: string): Promise<ChangeRequestView> {
  const text = parseField(rejectionComment, 'comment', comment);
  const request = await getForActor(ctx, actor.accountId, requestId);
  if (request.makerId === actor.accountId) throw selfApproval();
  const now = ctx.clock.now();
  const updated = await transitionOrExplain(ctx, request, actor.accountId, 'reject', { from: ['claimed'], checkerId: actor.accountId }, { status: 'rejected', decidedAt: now, step: step('rejected', 'rejected', actor.accountId, now, text) });
  await publishTransition(ctx, 'change_request.rejected', updated, actor, { comment: text });
  await notifyMaker(ctx, updated, text);
  return (await ctx.changeRequests.findById(requestId))!;
}
