/**
 * The task list and dashboard (design/domain.md): tasks needing me (to check; returned to me), my requests,
 * and the organization's history — searchable by reference or text and filterable by status, type and date.
 * Other makers' drafts are never listed.
 */
import { z } from 'zod';
import { toFieldErrors, DomainError } from '../../lib/index.js';
import { getForActor, requireDelegatedAdministrator, type ChangeRequestActor, type ChangeRequestContext } from './context.js';
import { CHANGE_REQUEST_STATUSES, CHANGE_REQUEST_TYPES, FINAL_STATUSES, type ChangeRequestView } from './model.js';
import type { ChangeRequestQuery } from './stores.js';

/** Which list: `to_check` (submitted by others, or claimed by me), `returned` (my rejected requests), `mine`, `history` (final), `all`. */
export const DASHBOARD_VIEWS = ['to_check', 'returned', 'mine', 'history', 'all'] as const;

/** Input of {@link listRequests}; dates are instants (`from` inclusive, `to` exclusive). */
export const dashboardQuery = z.object({
  organizationId: z.uuid('Choose an organization you administer.'),
  view: z.enum(DASHBOARD_VIEWS).default('all'),
  text: z.string().trim().max(200).optional(),
  statuses: z.array(z.enum(CHANGE_REQUEST_STATUSES)).optional(),
  types: z.array(z.enum(CHANGE_REQUEST_TYPES)).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** A page of the dashboard. */
export interface DashboardPage {
  items: ChangeRequestView[];
  total: number;
}

/**
 * Lists requests of an organization the actor administers.
 * @throws DomainError `validation_failed` (fieldErrors), `not_found` (not a DA of the organization).
 */
export async function listRequests(ctx: ChangeRequestContext, actor: ChangeRequestActor, input: z.input<typeof dashboardQuery>): Promise<DashboardPage> {
  const parsed = dashboardQuery.safeParse(input);
  if (!parsed.success) throw new DomainError('validation_failed', 'The search is not valid.', { fieldErrors: toFieldErrors(parsed.error.issues) });
  const q = parsed.data;
  await requireDelegatedAdministrator(ctx, actor.accountId, q.organizationId);
  const me = actor.accountId;
  const query: ChangeRequestQuery = { organizationIds: [q.organizationId], viewerId: me, text: q.text || undefined, types: q.types, updatedFrom: q.from, updatedBefore: q.to, limit: q.limit, offset: q.offset };
  if (q.view === 'to_check') query.checkableBy = me;
  if (q.view === 'returned') Object.assign(query, { makerId: me, statuses: ['rejected'] });
  if (q.view === 'mine') query.makerId = me;
  if (q.view === 'history') query.statuses = FINAL_STATUSES;
  if (q.statuses) query.statuses = query.statuses ? query.statuses.filter((s) => q.statuses!.includes(s)) : q.statuses;
  return ctx.changeRequests.list(query);
}

/** How many requests need the actor in the organization (to check, plus returned): the on-screen count. */
export async function countTasks(ctx: ChangeRequestContext, actor: ChangeRequestActor, organizationId: string): Promise<number> {
  const toCheck = await listRequests(ctx, actor, { organizationId, view: 'to_check', limit: 1 });
  const returned = await listRequests(ctx, actor, { organizationId, view: 'returned', limit: 1 });
  return toCheck.total + returned.total;
}

/** One request for the actor; other makers' drafts answer `not_found`. @throws DomainError `not_found`. */
export async function getRequest(ctx: ChangeRequestContext, actor: ChangeRequestActor, requestId: string): Promise<ChangeRequestView> {
  const request = await getForActor(ctx, actor.accountId, requestId);
  if (request.status === 'draft' && request.makerId !== actor.accountId) throw new DomainError('not_found', 'No such change request.');
  return request;
}
