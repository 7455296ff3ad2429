/**
 * The maker's verbs (design/domain.md): save a draft, edit it (each edit bumps `version`), submit it
 * (a reference is assigned; the quota is checked), reclaim it while nobody has claimed it, clone any
 * request into a new draft, discard a draft. Each transition is one conditional UPDATE.
 */
import { z } from 'zod';
import { DomainError, newId } from '../../lib/index.js';
import { getForActor, parseField, requireDelegatedAdministrator, stepMessage, type ChangeRequestActor, type ChangeRequestContext } from './context.js';
import { CHANGE_REQUEST_TYPES, type ChangeRequest, type ChangeRequestType, type ChangeRequestView } from './model.js';
import { refusal } from './refusals.js';
import { notifySubmitted } from './notify.js';
import { parsePayload } from './payloads.js';
import { publishTransition } from './publish.js';
import { isSftpType, requireSftpMaker } from './sftp.js';
import { checkSubmittable, describe } from './targets.js';
import { step, transitionOrExplain } from './transition.js';

/** Input of `createDraft`: the organization the actor administers, the type and its payload. */
export interface DraftInput {
  organizationId: string;
  type: ChangeRequestType;
  payload: unknown;
  message?: string;
}

const typeSchema = z.enum(CHANGE_REQUEST_TYPES, { error: 'Choose a kind of change.' });

/** Saves a new draft. @throws DomainError `not_found` (not a DA of the organization, or unknown target account), `validation_failed`. */
export async function createDraft(ctx: ChangeRequestContext, actor: ChangeRequestActor, input: DraftInput, clonedFromId: string | null = null): Promise<ChangeRequestView> {
  await requireDelegatedAdministrator(ctx, actor.accountId, input.organizationId);
  const type = parseField(typeSchema, 'type', input.type);
  if (isSftpType(type)) await requireSftpMaker(ctx, actor.accountId, input.organizationId);
  const payload = parsePayload(type, input.payload) as Record<string, unknown>;
  const message = parseField(stepMessage, 'message', input.message);
  const { title, accountId } = await describe(ctx, input.organizationId, type, payload);
  const now = ctx.clock.now();
  const request: ChangeRequest = {
    id: newId(), reference: null, organizationId: input.organizationId, type, payload, title, status: 'draft', makerId: actor.accountId, checkerId: null, accountId, clonedFromId, version: 1,
    steps: [step('created', 'draft', actor.accountId, now, message)], createdAt: now, updatedAt: now, submittedAt: null, claimedAt: null, decidedAt: null, completedAt: null,
  };
  await ctx.changeRequests.create(request);
  await publishTransition(ctx, 'change_request.created', request, actor, { clonedFromId });
  return (await ctx.changeRequests.findById(request.id))!;
}

/** Replaces a draft's payload when its version is still `version`; the version increases by one. */
export async function updateDraft(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string, input: { payload: unknown; version: number; message?: string }): Promise<ChangeRequestView> {
  const request = await getForActor(ctx, actor.accountId, requestId);
  const payload = parsePayload(request.type, input.payload) as Record<string, unknown>;
  const message = parseField(stepMessage, 'message', input.message);
  const { title, accountId } = await describe(ctx, request.organizationId, request.type, payload);
  const now = ctx.clock.now();
  const guard = { from: ['draft'] as const, makerId: actor.accountId, version: input.version };
  const updated = await transitionOrExplain(ctx, request, actor.accountId, 'update', guard, { status: 'draft', step: step('updated', 'draft', actor.accountId, now, message), payload, title, accountId, bumpVersion: true }, input.version);
  await publishTransition(ctx, 'change_request.updated', updated, actor, { version: updated.version });
  return (await ctx.changeRequests.findById(requestId))!;
}

/**
 * Submits a draft: `ready_for_checker`, reference assigned, the organization's other DAs emailed.
 * @throws DomainError `quota_exceeded` for `create_account` when the organization is full; `conflict`; `forbidden` (not the maker).
 */
export async function submit(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string, input: { message?: string; version?: number } = {}): Promise<ChangeRequestView> {
  const request = await getForActor(ctx, actor.accountId, requestId);
  const message = parseField(stepMessage, 'message', input.message);
  if (request.makerId !== actor.accountId || request.status !== 'draft') throw refusal(request, actor.accountId, 'submit', ctx.timeZone);
  if (isSftpType(request.type)) await requireSftpMaker(ctx, actor.accountId, request.organizationId);
  await checkSubmittable(ctx, request.organizationId, request.type, request.payload);
  const now = ctx.clock.now();
  const guard = { from: ['draft'] as const, makerId: actor.accountId, version: input.version };
  const updated = await transitionOrExplain(ctx, request, actor.accountId, 'submit', guard, { status: 'ready_for_checker', step: step('submitted', 'ready_for_checker', actor.accountId, now, message), assignReference: true, submittedAt: now }, input.version);
  const notified = await notifySubmitted(ctx, updated, request.makerName);
  await publishTransition(ctx, 'change_request.submitted', updated, actor, { notified });
  return (await ctx.changeRequests.findById(requestId))!;
}

/** Takes back a submitted request nobody has claimed: it becomes a draft again (its reference is kept). */
export async function reclaim(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string, input: { message?: string } = {}): Promise<ChangeRequestView> {
  const request = await getForActor(ctx, actor.accountId, requestId);
  const message = parseField(stepMessage, 'message', input.message);
  const now = ctx.clock.now();
  const updated = await transitionOrExplain(ctx, request, actor.accountId, 'reclaim', { from: ['ready_for_checker'], makerId: actor.accountId }, { status: 'draft', step: step('reclaimed', 'draft', actor.accountId, now, message) });
  await publishTransition(ctx, 'change_request.reclaimed', updated, actor);
  return (await ctx.changeRequests.findById(requestId))!;
}

/** Discards a draft of the actor's (final). */
export async function discard(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string): Promise<ChangeRequestView> {
  const request = await getForActor(ctx, actor.accountId, requestId);
  const updated = await transitionOrExplain(ctx, request, actor.accountId, 'discard', { from: ['draft'], makerId: actor.accountId }, { status: 'discarded', step: step('discarded', 'discarded', actor.accountId, ctx.clock.now(), null) });
  await publishTransition(ctx, 'change_request.discarded', updated, actor);
  return (await ctx.changeRequests.findById(requestId))!;
}

/** Copies any request of the organization into a new draft whose maker is the actor. */
export async function clone(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string): Promise<ChangeRequestView> {
  const source = await getForActor(ctx, actor.accountId, requestId);
  if (source.status === 'draft' && source.makerId !== actor.accountId) throw new DomainError('not_found', 'No such change request.');
  return createDraft(ctx, actor, { organizationId: source.organizationId, type: source.type, payload: source.payload }, source.id);
}
