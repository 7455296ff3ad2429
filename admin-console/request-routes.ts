/**
 * `/requests/:id`: one change request and the maker-checker actions its status allows
 * (`POST /requests/:id/<action>`). Each action calls one service verb; refusals come back on the page.
 */
import express from 'express';
import { z } from 'zod';
import type { ChangeRequestView, Identity } from '../identity/index.js';
import type { AdminContext } from './options.js';
import { formProblem, isNotFound, notFound, type FormProblem } from './render.js';
import { REQUEST_ACTIONS, requestPageModel, type RequestAction } from './request-view.js';

/** Exactly the fields the action forms show. */
const actionForm = z.object({
  message: z.string().max(4000).optional(),
  comment: z.string().max(4000).default(''),
  version: z.coerce.number().int().positive().optional(),
});
type ActionForm = z.output<typeof actionForm>;

/** What each action did, for the success message. */
const DONE: Record<RequestAction, string> = {
  submit: 'Submitted to a checker.',
  claim: 'You claimed this request. Review it, then confirm or reject it.',
  confirm: 'Confirmed: the change is done.',
  reject: 'Rejected: the maker has been told why.',
  reclaim: 'Taken back: the request is a draft again.',
  discard: 'Discarded.',
  clone: 'Copied into this new draft. Submit it when it is right.',
};

/** What a confirmation did when the request went to the operator instead of being applied. */
const SENT_TO_OPERATOR = 'Confirmed: the request is sent to the operator, who completes the change.';

type Verb = (identity: Identity, admin: AdminContext, id: string, form: ActionForm) => Promise<ChangeRequestView>;
const VERBS: Record<RequestAction, Verb> = {
  submit: (i, a, id, f) => i.changeRequests.submit(a.actor, id, { message: f.message, version: f.version }),
  claim: (i, a, id, f) => i.changeRequests.claim(a.actor, id, { message: f.message }),
  confirm: (i, a, id, f) => i.changeRequests.confirm(a.actor, id, f.version ?? 0, { message: f.message }),
  reject: (i, a, id, f) => i.changeRequests.reject(a.actor, id, f.comment),
  reclaim: (i, a, id, f) => i.changeRequests.reclaim(a.actor, id, { message: f.message }),
  discard: (i, a, id) => i.changeRequests.discard(a.actor, id),
  clone: (i, a, id) => i.changeRequests.clone(a.actor, id),
};

/** Renders the request page, or 404 when it is not the organization's (or not visible to the actor). */
async function renderRequest(identity: Identity, res: express.Response, id: string, done: string | null, problem: FormProblem | null): Promise<void> {
  const admin = res.locals.admin as AdminContext;
  let request: ChangeRequestView;
  try {
    request = await identity.changeRequests.getRequest(admin.actor, id);
  } catch (error) {
    if (isNotFound(error)) return notFound(res);
    throw error;
  }
  if (request.organizationId !== admin.organization.id) return notFound(res);
  const model = await requestPageModel(identity, admin, request);
  if (done === DONE.confirm && request.status === 'sent_to_operator') done = SENT_TO_OPERATOR;
  res.status(problem?.status ?? 200).render('request', { title: `${model.reference} · ${model.title}`, admin, request: model, done, problem });
}

/** Routes of the request page. */
export function requestRoutes(identity: Identity): express.Router {
  const router = express.Router();
  router.get('/requests/:id', async (req, res) => {
    const done = z.enum(REQUEST_ACTIONS).safeParse(req.query.done);
    await renderRequest(identity, res, req.params.id, done.success ? DONE[done.data] : null, null);
  });
  router.post('/requests/:id/:action', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const action = z.enum(REQUEST_ACTIONS).safeParse(req.params.action);
    const form = actionForm.safeParse(req.body);
    if (!action.success || !form.success) return notFound(res);
    try {
      const current = await identity.changeRequests.getRequest(admin.actor, req.params.id);
      if (current.organizationId !== admin.organization.id) return notFound(res);
      const after = await VERBS[action.data](identity, admin, req.params.id, form.data);
      res.redirect(303, `/requests/${encodeURIComponent(after.id)}?done=${action.data}`);
    } catch (error) {
      if (isNotFound(error)) return notFound(res);
      const problem = formProblem(error);
      if (!problem) throw error;
      await renderRequest(identity, res, req.params.id, null, problem);
    }
  });
  return router;
}
