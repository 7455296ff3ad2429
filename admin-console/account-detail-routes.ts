/**
 * `/accounts/:id`: one account of the administered organization (membership, functions, status, second
 * factor, lockout, last sign-in) and the forms that request a change to it — `POST /accounts/:id/<change>`
 * saves a change request and submits it to a checker. Another organization's account answers 404.
 */
import express from 'express';
import { z } from 'zod';
import { completionFor, OPERATOR_REASON_MESSAGES, type ChangeRequestType, type Identity } from '../identity/index.js';
import { accountFacts, findOrganizationAccount, type AccountFacts } from './account-facts.js';
import { functionChoices, functionsField } from './account-routes.js';
import type { AdminContext } from './options.js';
import { MALFORMED_FORM, notFound, type FormProblem } from './render.js';
import { sftpAccessView, type SftpAccessView } from './sftp-access.js';
import { requestChange, submittedHref } from './submit-change.js';

/** One change form of the detail page: its URL slug, request type, heading, explanation and button. */
export interface ChangeForm {
  slug: string;
  type: ChangeRequestType;
  heading: string;
  explain: string;
  button: string;
  danger: boolean;
}

/** Every change form, in the order shown; the page offers those {@link AccountFacts.changes} lists. */
export const CHANGE_FORMS: readonly ChangeForm[] = [
  { slug: 'functions', type: 'change_functions', heading: 'Change functions', explain: 'The checked functions replace the current ones.', button: 'Request the new functions', danger: false },
  { slug: 'suspend', type: 'suspend_account', heading: 'Suspend', explain: 'The person cannot sign in until the account is reactivated; their sessions end.', button: 'Request suspension', danger: true },
  { slug: 'reactivate', type: 'reactivate_account', heading: 'Reactivate', explain: 'The person can sign in again.', button: 'Request reactivation', danger: false },
  { slug: 'unlock', type: 'unlock_account', heading: 'Unlock', explain: 'Clears the lock after too many failed sign-ins.', button: 'Request unlock', danger: false },
  { slug: 'reset-second-factor', type: 'reset_second_factor', heading: 'Reset second factor', explain: 'Removes the authenticator app and every passkey; the person then signs in with a code sent by email.', button: 'Request second factor reset', danger: false },
  { slug: 'close', type: 'close_account', heading: 'Close account', explain: 'Final: the person can never sign in with this account again; their sessions end.', button: 'Request closure', danger: true },
  { slug: 'appoint-delegated-administrator', type: 'appoint_delegated_administrator', heading: 'Appoint delegated administrator', explain: 'After a checker confirms, the operator completes the appointment.', button: 'Request appointment', danger: false },
  { slug: 'remove-delegated-administrator', type: 'remove_delegated_administrator', heading: 'Remove delegated administrator', explain: 'After a checker confirms, the operator completes the removal.', button: 'Request removal', danger: true },
];
const SLUGS = CHANGE_FORMS.map((f) => f.slug) as [string, ...string[]];

/** Exactly the fields the change forms show (no mass assignment); the account comes from the URL. */
export const changeForm = z.object({
  functions: functionsField,
  message: z.string().max(4000).optional(),
});

/** What a refused form shows again: which form, what was entered, and the draft when one was saved. */
interface Refused {
  slug: string;
  functions: string[];
  message: string;
  problem: FormProblem;
  draftHref: string | null;
}

/** What a refused SFTP form (sftp-routes.ts) shows again: which form, what was entered, the problem, the draft. */
export interface SftpRefused {
  form: 'key' | 'address' | 'remove';
  values: { publicKey: string; name: string; expiresAt: string; cidr: string; message: string };
  problem: FormProblem;
  draftHref: string | null;
}

/** The account page's data ({@link loadAccountPage}). */
export interface AccountPage {
  target: NonNullable<Awaited<ReturnType<typeof findOrganizationAccount>>>;
  otherOrganizations: number;
  facts: AccountFacts;
  sftp: SftpAccessView;
}

/**
 * The account `id` of the administered organization with what its page shows, or null (answer 404) when it is not
 * one of the organization's accounts.
 */
export async function loadAccountPage(identity: Identity, res: express.Response, id: string): Promise<AccountPage | null> {
  const admin = res.locals.admin as AdminContext;
  const target = z.uuid().safeParse(id).success ? await findOrganizationAccount(identity, admin.organization.id, id) : null;
  if (!target) return null;
  const memberships = (await identity.accounts.findAccount(target.account.id))?.memberships ?? [];
  const otherOrganizations = memberships.filter((m) => m.organizationId !== admin.organization.id).length;
  const sftp = await sftpAccessView(identity, admin, { id: target.account.id, userId: target.account.userId, closed: target.account.status === 'closed' }, target.membership.functions);
  return { target, otherOrganizations, facts: await accountFacts(identity, target, admin.timeZone), sftp };
}

/** Renders the account page of `page`, with a refused change form or a refused SFTP form shown again. */
export function renderAccountPage(res: express.Response, page: AccountPage, refused: Refused | null, sftpRefused: SftpRefused | null = null): void {
  render(res, page.facts, page.otherOrganizations, refused, page.sftp, sftpRefused);
}

/**
 * The forms that apply; for an account also in other organizations, an account-wide change's explanation says
 * that the operator completes it (docs/policies.md).
 */
function render(res: express.Response, account: AccountFacts, otherOrganizations: number, refused: Refused | null, sftp: SftpAccessView, sftpRefused: SftpRefused | null = null): void {
  const admin = res.locals.admin as AdminContext;
  const forms = CHANGE_FORMS.filter((f) => account.changes.includes(f.type)).map((f) => {
    const completion = completionFor(f.type, otherOrganizations);
    return completion.reason === 'shared_account' ? { ...f, explain: `${f.explain} ${OPERATOR_REASON_MESSAGES.shared_account}` } : f;
  });
  res.status(refused?.problem.status ?? sftpRefused?.problem.status ?? 200).render('account', { title: `${account.name} (${account.userId})`, admin, account, forms, functionChoices, refused, sftp, sftpRefused });
}

/** Routes of the account detail page and its change forms. */
export function accountDetailRoutes(identity: Identity): express.Router {
  const router = express.Router();
  const load = (res: express.Response, id: string) => loadAccountPage(identity, res, id);
  router.get('/accounts/:id', async (req, res) => {
    const found = await load(res, req.params.id);
    if (!found) return notFound(res);
    render(res, found.facts, found.otherOrganizations, null, found.sftp);
  });
  router.post('/accounts/:id/:change', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const slug = z.enum(SLUGS).safeParse(req.params.change);
    const found = slug.success ? await load(res, req.params.id) : null;
    const form = changeForm.safeParse(req.body);
    if (!found || !slug.success) return notFound(res);
    const change = CHANGE_FORMS.find((f) => f.slug === slug.data)!;
    const entered = { slug: change.slug, functions: form.success ? form.data.functions : [], message: form.success ? (form.data.message ?? '') : '', draftHref: null };
    if (!form.success) return render(res, found.facts, found.otherOrganizations, { ...entered, problem: MALFORMED_FORM }, found.sftp);
    if (!found.facts.changes.includes(change.type)) {
      return render(res, found.facts, found.otherOrganizations, { ...entered, problem: { status: 409, message: `${change.heading} does not apply to ${found.facts.userId} now.`, fieldErrors: {} } }, found.sftp);
    }
    const payload = change.type === 'change_functions' ? { accountId: found.target.account.id, functions: form.data.functions } : { accountId: found.target.account.id };
    const outcome = await requestChange(identity, admin, change.type, payload, form.data.message);
    if (outcome.kind === 'submitted') return res.redirect(303, submittedHref(outcome.requestId));
    if (outcome.kind === 'not_found') return notFound(res);
    render(res, found.facts, found.otherOrganizations, { ...entered, problem: outcome.problem, draftHref: outcome.draftId ? `/requests/${encodeURIComponent(outcome.draftId)}` : null }, found.sftp);
  });
  return router;
}
