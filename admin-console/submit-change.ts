/**
 * The maker's one step from a console form: save the change as a draft and submit it to a checker
 * (`createDraft` + `submit` of the change request service), turning refusals into something a form can show.
 */
import type { ChangeRequestType, Identity } from '../identity/index.js';
import type { AdminContext } from './options.js';
import { formProblem, isNotFound, type FormProblem } from './render.js';

/**
 * What came of it: `submitted` (redirect to the request page); `refused` with the problem to show and the
 * draft's id when the draft was saved but could not be submitted; `not_found` (answer 404).
 */
export type ChangeOutcome = { kind: 'submitted'; requestId: string } | { kind: 'refused'; problem: FormProblem; draftId: string | null } | { kind: 'not_found' };

/**
 * Saves a `type` request with `payload` for the administered organization and submits it, with `message`
 * for the next person. @throws whatever is not a safe-to-show domain error (the console's 500 page).
 */
export async function requestChange(identity: Identity, admin: AdminContext, type: ChangeRequestType, payload: unknown, message: string | undefined): Promise<ChangeOutcome> {
  let draftId: string | null = null;
  try {
    const draft = await identity.changeRequests.createDraft(admin.actor, { organizationId: admin.organization.id, type, payload });
    draftId = draft.id;
    await identity.changeRequests.submit(admin.actor, draft.id, { message, version: draft.version });
    return { kind: 'submitted', requestId: draft.id };
  } catch (error) {
    if (isNotFound(error) && !draftId) return { kind: 'not_found' };
    const problem = formProblem(error);
    if (!problem) throw error;
    return { kind: 'refused', problem, draftId };
  }
}

/** The request page after a successful submission. */
export function submittedHref(requestId: string): string {
  return `/requests/${encodeURIComponent(requestId)}?done=submitted`;
}
