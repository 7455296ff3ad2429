/**
 * `/accounts`: the organization's accounts with search and the quota ("17 of 20 accounts"), and the
 * "Request a new account" form, which saves a `create_account` change request and submits it to a checker.
 */
import express from 'express';
import { z } from 'zod';
import { ACCOUNT_QUOTA_PER_ORGANIZATION, FUNCTIONS, FUNCTION_NAMES } from '../policies/index.js';
import type { Identity } from '../identity/index.js';
import type { AdminContext } from './options.js';
import { formProblem, type FormProblem } from './render.js';

const searchSchema = z.object({ text: z.string().trim().max(200).optional().catch(undefined) });

/** Exactly the fields the form shows (no mass assignment); the domain validates their content. */
const newAccountForm = z.object({
  userId: z.string().max(200).default(''),
  name: z.string().max(400).default(''),
  email: z.string().max(400).default(''),
  phone: z.string().max(100).default(''),
  functions: z.union([z.string(), z.array(z.string())]).default([]).transform((f) => (Array.isArray(f) ? f : [f])),
  message: z.string().max(4000).optional(),
});
type NewAccountForm = z.output<typeof newAccountForm>;

const functionChoices = FUNCTION_NAMES.map((name) => ({ name, title: FUNCTIONS[name].title }));

function renderForm(res: express.Response, values: Partial<NewAccountForm>, problem: FormProblem | null, draftHref: string | null = null): void {
  const admin = res.locals.admin as AdminContext;
  res.status(problem?.status ?? 200).render('account-new', { title: 'Request a new account', admin, values: { functions: [], ...values }, functionChoices, problem, draftHref });
}

/** Routes of the accounts pages. */
export function accountRoutes(identity: Identity): express.Router {
  const router = express.Router();
  router.get('/accounts', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const { text } = searchSchema.parse(req.query);
    const [accounts, count] = await Promise.all([identity.accounts.listInOrganization(admin.organization.id, { text }), identity.accounts.countInOrganization(admin.organization.id)]);
    const rows = accounts.map(({ account, membership }) => ({ userId: account.userId, name: account.name, email: account.email, status: account.status, functions: membership.functions.join(', ') || '—', delegatedAdministrator: membership.delegatedAdministrator }));
    res.render('accounts', { title: 'Accounts', admin, rows, text: text ?? '', quota: `${count} of ${ACCOUNT_QUOTA_PER_ORGANIZATION} accounts` });
  });
  router.get('/accounts/new', (_req, res) => renderForm(res, {}, null));
  router.post('/accounts/new', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const form = newAccountForm.safeParse(req.body);
    if (!form.success) return renderForm(res, {}, { status: 400, message: 'The form is not valid.', fieldErrors: {} });
    const { message, ...payload } = form.data;
    let draft;
    try {
      draft = await identity.changeRequests.createDraft(admin.actor, { organizationId: admin.organization.id, type: 'create_account', payload });
      await identity.changeRequests.submit(admin.actor, draft.id, { message, version: draft.version });
    } catch (error) {
      const problem = formProblem(error);
      if (!problem) throw error;
      return renderForm(res, form.data, problem, draft ? `/requests/${draft.id}` : null);
    }
    res.redirect(303, `/requests/${draft.id}?done=submitted`);
  });
  return router;
}
