/**
 * Running one guarded transition, and turning a refusal into the reason a person can act on.
 */
import { DomainError } from '../../lib/index.js';
import type { ChangeRequestContext } from './context.js';
import type { ChangeRequest, ChangeRequestAction, ChangeRequestStatus, ChangeRequestStep, ChangeRequestView } from './model.js';
import { refusal, type AttemptedAction } from './refusals.js';
import type { TransitionChange, TransitionGuard } from './stores.js';

/** A step record. */
export const step = (action: ChangeRequestAction, status: ChangeRequestStatus, actor: string, at: Date, message: string | null): ChangeRequestStep => ({ action, status, actor, at, message });

/**
 * Runs one guarded transition; on refusal reads the request again and throws the reason.
 * @throws DomainError from {@link refusal}, or `not_found` when the request is gone.
 */
export async function transitionOrExplain(ctx: ChangeRequestContext, request: ChangeRequestView, actorId: string, action: AttemptedAction, guard: TransitionGuard, change: TransitionChange, version?: number): Promise<ChangeRequest> {
  const updated = await ctx.changeRequests.transition(request.id, guard, change);
  if (updated) return updated;
  const current = await ctx.changeRequests.findById(request.id);
  throw current ? refusal(current, actorId, action, ctx.timeZone, version) : new DomainError('not_found', 'No such change request.');
}

