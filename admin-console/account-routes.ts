/**
 * `/accounts`: the organization's accounts with search (user ID, name, email), filters (status, function,
 * locked) and the quota ("17 of 20 accounts"), and the "Request a new account" form, which saves a
 * `create_account` change request and submits it to a checker.
 */
import express from 'express';
import { z } from 'zod';
import { ACCOUNT_QUOTA_PER_ORGANIZATION, FUNCTIONS, FUNCTION_NAMES } from '../policies/index.js';
import type { Identity } from '../identity/index.js';
import { isLocked, statusLabel, withLockouts, type AccountWithLockout } from './account-facts.js';
import type { AdminContext } from './options.js';
import { MALFORMED_FORM, type FormProblem } from './render.js';
import { requestChange, submittedHref } from './submit-change.js';

const ACCOUNT_STATUSES = ['active', 'suspended', 'closed'] as const;
const LOCK_FILTERS = ['locked', 'unlocked'] as const;

/** The list's query string; a value that is not one of the choices counts as "any". */
const filterSchema = z.object({
  text: z.string().trim().max(200).optional().catch(undefined),
  status: z.enum(ACCOUNT_STATUSES).optional().catch(undefined),
  function: z.enum(FUNCTION_NAMES).optional().catch(undefined),
  locked: z.enum(LOCK_FILTERS).optional().catch(undefined),
});
type AccountFilter = z.output<typeof filterSchema>;

/** The functions checkboxes: none, one or several names (the domain checks them against the catalogue). */
export const functionsField = z.union([z.string(), z.array(z.string())]).default([]).transform((f) => (Array.isArray(f) ? f : [f]));

/** Exactly the fields the new account form shows (no mass assignment); the domain validates their content. */
export const newAccountForm = z.object({
  userId: z.string().max(200).default(''),
  name: z.string().max(400).default(''),
  email: z.string().max(400).default(''),
  phone: z.string().max(100).default(''),
  functions: functionsField,
  message: z.string().max(4000).optional(),
});
type NewAccountForm = z.output<typeof newAccountForm>;

/** The catalogue as the forms' function checkboxes show it. */
export const functionChoices = FUNCTION_NAMES.map((name) => ({ name, title: FUNCTIONS[name].title }));

function matches(row: AccountWithLockout, filter: AccountFilter): boolean {
  if (filter.status && row.account.status !== filter.status) return false;
  if (filter.function && !row.membership.functions.includes(filter.function)) return false;
  if (filter.locked && isLocked(row.lockout) !== (filter.locked === 'locked')) return false;
  return true;
}

function renderForm(res: express.Response, values: Partial<NewAccountForm>, problem: FormProblem | null, draftHref: string | null = null): void {
  const admin = res.locals.admin as AdminContext;
  res.status(problem?.status ?? 200).render('account-new', { title: 'Request a new account', admin, values: { functions: [], ...values }, functionChoices, problem, draftHref });
}

/** Routes of the accounts list and the new account form. */
export function accountRoutes(identity: Identity): express.Router {
  const router = express.Router();
  router.get('/accounts', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const filter = filterSchema.parse(req.query);
    const [accounts, count] = await Promise.all([identity.accounts.listInOrganization(admin.organization.id, { text: filter.text }), identity.accounts.countInOrganization(admin.organization.id)]);
    const rows = (await withLockouts(identity, accounts)).filter((row) => matches(row, filter)).map(({ account, membership, lockout }) => ({
      href: `/accounts/${encodeURIComponent(account.id)}`, userId: account.userId, name: account.name, email: account.email, status: statusLabel(account, lockout), functions: membership.functions.join(', ') || '—', delegatedAdministrator: membership.delegatedAdministrator,
    }));
    const choices = { statuses: ACCOUNT_STATUSES, functions: functionChoices, locked: [{ value: 'locked', label: 'Locked' }, { value: 'unlocked', label: 'Not locked' }] };
    const shown = { text: filter.text ?? '', status: filter.status ?? '', function: filter.function ?? '', locked: filter.locked ?? '' };
    res.render('accounts', { title: 'Accounts', admin, rows, filter: shown, choices, quota: `${count} of ${ACCOUNT_QUOTA_PER_ORGANIZATION} accounts` });
  });
  router.get('/accounts/new', (_req, res) => renderForm(res, {}, null));
  router.post('/accounts/new', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const form = newAccountForm.safeParse(req.body);
    if (!form.success) return renderForm(res, {}, MALFORMED_FORM);
    const { message, ...payload } = form.data;
    const outcome = await requestChange(identity, admin, 'create_account', payload, message);
    if (outcome.kind === 'submitted') return res.redirect(303, submittedHref(outcome.requestId));
    if (outcome.kind === 'not_found') return renderForm(res, form.data, { status: 404, message: 'You do not administer this organization.', fieldErrors: {} });
    renderForm(res, form.data, outcome.problem, outcome.draftId ? `/requests/${outcome.draftId}` : null);
  });
  return router;
}
