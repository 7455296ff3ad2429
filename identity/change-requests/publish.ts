/**
 * A change-request transition as an event (`change_request.*`), with the request's identity in `data` so the
 * audit log can be searched by reference; and the events of an applied change, written in its transaction and
 * handed to the bus's other subscribers once it committed (design/style.md).
 */
import type { AuditEvent } from '../model.js';
import { stampEvent, type EventInput, type EventType } from '../events.js';
import type { ChangeRequestContext } from './context.js';
import type { ChangeRequest } from './model.js';
import type { ChangeApplier } from './stores.js';

/** Who caused a transition: a DA's account id, or the operator's actor string, and from which IP. */
export type TransitionActor = { accountId?: string; operator?: string; ip?: string | null };

/** The event `type` about `request`, caused by `actor`. */
export function transitionEvent(type: EventType, request: ChangeRequest, actor: TransitionActor, data: Record<string, unknown> = {}): EventInput {
  return {
    type,
    accountId: request.accountId,
    organizationId: request.organizationId,
    actor: actor.accountId ?? actor.operator ?? null,
    ip: actor.ip ?? null,
    data: { changeRequestId: request.id, reference: request.reference, type: request.type, status: request.status, ...data },
  };
}

/** Publishes `type` about `request`, caused by `actor` (a transition that changes nothing but the request). */
export async function publishTransition(ctx: ChangeRequestContext, type: EventType, request: ChangeRequest, actor: TransitionActor, data: Record<string, unknown> = {}): Promise<void> {
  await ctx.events.publish(transitionEvent(type, request, actor, data), ctx.clock.now());
}

/**
 * Stamps `events` and appends them to the audit log through `applier`, so they commit or roll back with the
 * change they describe. @returns them stamped, for {@link publishRecorded} once the transaction committed.
 */
export async function recordInTransaction(ctx: ChangeRequestContext, applier: ChangeApplier, events: EventInput[]): Promise<AuditEvent[]> {
  const stamped = events.map((event) => stampEvent(event, ctx.clock.now()));
  await applier.recordEvents(stamped);
  return stamped;
}

/** Hands events written by {@link recordInTransaction} to the bus's subscribers (logger, back-channel logouts); the audit log has them. */
export async function publishRecorded(ctx: ChangeRequestContext, events: AuditEvent[]): Promise<void> {
  for (const event of events) await ctx.events.publishRecorded(event);
}
