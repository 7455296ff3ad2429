/**
 * `/operator/requests`: change requests `Sent to operator` (appointing or removing a delegated administrator,
 * or an account-wide change to an account shared by several organizations, confirmed by a checker) from every
 * organization, each with why it came to the operator; `/operator/requests/:id` shows one with Complete and
 * Reject (a comment is required). Both call the change request service as `operator:<account id>`.
 */
import express from 'express';
import { z } from 'zod';
import { formatInstant, STATUS_LABELS, type ChangeRequestView, type Identity } from '../identity/index.js';
import { operatorOf, renderOperator } from './operator-forms.js';
import { attempt, isProblem, MALFORMED_FORM, isNotFound, notFound, type FormProblem } from './render.js';
import { requestRow, statusText, TYPE_LABELS } from './view-models.js';

const ACTIONS = ['complete', 'reject'] as const;
const DONE: Record<(typeof ACTIONS)[number], string> = { complete: 'Completed: the change is applied and the maker has been told.', reject: 'Rejected: the maker has been told why.' };

/** Exactly the fields the two forms show. */
const actionForm = z.object({ message: z.string().max(4000).optional(), comment: z.string().max(4000).default('') });

async function findRequest(identity: Identity, id: string): Promise<ChangeRequestView | null> {
  try {
    return await identity.changeRequests.getForOperator(id);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Who each step's actor is: DA names from the request, the operator for `operator:` actors. */
async function actorName(identity: Identity, request: ChangeRequestView, actor: string): Promise<string> {
  if (actor === request.makerId) return request.makerName;
  if (actor === request.checkerId && request.checkerName) return request.checkerName;
  if (actor.startsWith('operator')) return 'The operator';
  return (await identity.accounts.findAccount(actor))?.account.name ?? 'Someone';
}

async function renderRequest(identity: Identity, res: express.Response, request: ChangeRequestView, timeZone: string, done: string | null, problem: FormProblem | null, comment = ''): Promise<void> {
  const steps = await Promise.all(request.steps.map(async (s) => ({ who: await actorName(identity, request, s.actor), what: STATUS_LABELS[s.status], at: formatInstant(s.at, timeZone), message: s.message })));
  const model = {
    id: request.id,
    reference: request.reference ?? 'Draft',
    title: request.title,
    classification: TYPE_LABELS[request.type],
    organization: [request.organizationName, ...request.participantIds].join(' / '),
    status: statusText(request, timeZone),
    maker: request.makerName,
    checker: request.checkerName ?? '—',
    open: request.status === 'sent_to_operator',
    operatorNote: requestRow(request, timeZone).note,
    steps,
  };
  renderOperator(res, 'operator-request', { title: `${model.reference} · ${model.title}`, request: model, done, comment }, problem);
}

/** Routes of the operator's request screens (mounted under `/operator`). */
export function operatorRequestRoutes(identity: Identity, timeZone: string): express.Router {
  const router = express.Router();
  router.get('/requests', async (_req, res) => {
    const page = await identity.changeRequests.listForOperator({ statuses: ['sent_to_operator'] });
    const rows = page.items.map((r) => ({ ...requestRow(r, timeZone), href: `/operator/requests/${encodeURIComponent(r.id)}` }));
    renderOperator(res, 'operator-requests', { title: 'Sent to operator', section: { heading: 'Sent to operator', rows }, total: page.total });
  });
  router.get('/requests/:id', async (req, res) => {
    const request = await findRequest(identity, req.params.id);
    if (!request) return notFound(res);
    const done = z.enum(ACTIONS).safeParse(req.query.done);
    await renderRequest(identity, res, request, timeZone, done.success ? DONE[done.data] : null, null);
  });
  router.post('/requests/:id/:action', async (req, res) => {
    const action = z.enum(ACTIONS).safeParse(req.params.action);
    const request = action.success ? await findRequest(identity, req.params.id) : null;
    if (!action.success || !request) return notFound(res);
    const form = actionForm.safeParse(req.body);
    if (!form.success) return renderRequest(identity, res, request, timeZone, null, MALFORMED_FORM);
    const { actor } = operatorOf(res);
    const after = await attempt(() =>
      action.data === 'complete' ? identity.changeRequests.completeByOperator(actor, request.id, { message: form.data.message || undefined }) : identity.changeRequests.rejectByOperator(actor, request.id, form.data.comment),
    );
    if (isProblem(after)) return renderRequest(identity, res, (await findRequest(identity, request.id)) ?? request, timeZone, null, after, form.data.comment);
    res.redirect(303, `/operator/requests/${encodeURIComponent(request.id)}?done=${action.data}`);
  });
  return router;
}
