/**
 * `GET|POST /requests/:id/edit`: the maker edits their own draft (`updateDraft`, which bumps its version).
 * A `create_account` draft shows the new account form; a `change_functions` draft its functions; every
 * other draft only a message, since its account cannot change. Anything but the viewer's own draft of the
 * administered organization answers 404.
 */
import express from 'express';
import { z } from 'zod';
import { SFTP_TYPES, type ChangeRequestView, type Identity } from '../identity/index.js';
import { changeForm } from './account-detail-routes.js';
import { functionChoices, newAccountForm } from './account-routes.js';
import type { AdminContext } from './options.js';
import { attempt, isNotFound, isProblem, MALFORMED_FORM, notFound, type FormProblem } from './render.js';

const versionField = z.object({ version: z.coerce.number().int().positive() });

/** The viewer's draft `id` in the administered organization, or null. */
async function findOwnDraft(identity: Identity, admin: AdminContext, id: string): Promise<ChangeRequestView | null> {
  try {
    const request = await identity.changeRequests.getRequest(admin.actor, id);
    const own = request.organizationId === admin.organization.id && request.status === 'draft' && request.makerId === admin.actor.accountId;
    return own ? request : null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Renders the edit form of `draft` with `values` (the draft's payload, or what was entered) and `problem`. */
function render(res: express.Response, draft: ChangeRequestView, values: Record<string, unknown>, problem: FormProblem | null): void {
  const admin = res.locals.admin as AdminContext;
  const edit = { action: `/requests/${encodeURIComponent(draft.id)}/edit`, version: draft.version, title: draft.title, type: draft.type };
  const view = draft.type === 'create_account' ? 'account-new' : 'draft-edit';
  res.status(problem?.status ?? 200).render(view, { title: `Edit draft: ${draft.title}`, admin, edit, values: { functions: [], ...values }, functionChoices, problem, draftHref: null });
}

/** The new payload from the form: only the fields the draft's form shows; the account never changes. */
function payloadFrom(draft: ChangeRequestView, body: unknown): { payload: Record<string, unknown>; message?: string } | null {
  if (draft.type === 'create_account') {
    const form = newAccountForm.safeParse(body);
    if (!form.success) return null;
    const { message, ...payload } = form.data;
    return { payload, message };
  }
  const form = changeForm.safeParse(body);
  if (!form.success) return null;
  const accountId = (draft.payload as { accountId: string }).accountId;
  // An SFTP request's key or address is not edited here (clone the request to change it): its payload stays.
  if (SFTP_TYPES.includes(draft.type)) return { payload: draft.payload, message: form.data.message };
  return { payload: draft.type === 'change_functions' ? { accountId, functions: form.data.functions } : { accountId }, message: form.data.message };
}

/** Routes of the draft edit form. Mount before the request page's `POST /requests/:id/:action`. */
export function draftRoutes(identity: Identity): express.Router {
  const router = express.Router();
  router.get('/requests/:id/edit', async (req, res) => {
    const draft = await findOwnDraft(identity, res.locals.admin as AdminContext, req.params.id);
    if (!draft) return notFound(res);
    render(res, draft, draft.payload, null);
  });
  router.post('/requests/:id/edit', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const draft = await findOwnDraft(identity, admin, req.params.id);
    if (!draft) return notFound(res);
    const input = payloadFrom(draft, req.body);
    const version = versionField.safeParse(req.body);
    if (!input || !version.success) return render(res, draft, draft.payload, MALFORMED_FORM);
    const updated = await attempt(() => identity.changeRequests.updateDraft(admin.actor, draft.id, { payload: input.payload, version: version.data.version, message: input.message }));
    if (isProblem(updated)) return render(res, draft, { ...input.payload, message: input.message }, updated);
    res.redirect(303, `/requests/${encodeURIComponent(draft.id)}`);
  });
  return router;
}
