/**
 * Publishing a change-request transition as an event (`change_request.*`), with the request's identity in
 * `data` so the audit log can be searched by reference.
 */
import type { EventType } from '../events.js';
import type { ChangeRequestContext } from './context.js';
import type { ChangeRequest } from './model.js';

/** Publishes `type` about `request`, caused by `actor` (account id or operator actor string). */
export async function publishTransition(
  ctx: ChangeRequestContext,
  type: EventType,
  request: ChangeRequest,
  actor: { accountId?: string; operator?: string; ip?: string | null },
  data: Record<string, unknown> = {},
): Promise<void> {
  await ctx.events.publish(
    {
      type,
      accountId: request.accountId,
      organizationId: request.organizationId,
      actor: actor.accountId ?? actor.operator ?? null,
      ip: actor.ip ?? null,
      data: { changeRequestId: request.id, reference: request.reference, type: request.type, status: request.status, ...data },
    },
    ctx.clock.now(),
  );
}
