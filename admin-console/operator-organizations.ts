/**
 * `/operator/organizations`: every organization with its participant IDs; create one (name and one or more
 * participant IDs), add a participant ID, and appoint a member delegated administrator directly (the first
 * DAs of an organization: maker-checker needs two before DAs can ask the operator themselves); and whether
 * delegated administrators must have a passkey, for every organization and per organization
 * (operator-phishing-resistant.ts).
 */
import express from 'express';
import { z } from 'zod';
import { ACCOUNT_QUOTA_PER_ORGANIZATION } from '../policies/index.js';
import type { Identity, Organization } from '../identity/index.js';
import { entriesOf, operatorOf, renderOperator } from './operator-forms.js';
import { operatorPhishingResistantRoutes, phishingResistantView, saveRule } from './operator-phishing-resistant.js';
import { attempt, isProblem, MALFORMED_FORM, isNotFound, notFound, type FormProblem } from './render.js';

/** Exactly the fields each form shows (no mass assignment). */
const createForm = z.object({ name: z.string().max(400).default(''), participantIds: z.string().max(400).default('') });
const participantForm = z.object({ participantId: z.string().max(100).default('') });
const appointForm = z.object({ accountId: z.string().max(64).default('') });

const DONE = { created: 'Organization created.', participant: 'Participant ID added.', appointed: 'Appointed delegated administrator.', unchanged: 'That account already was a delegated administrator.', rule: 'Passkey requirement saved.' } as const;
const doneOf = (value: unknown) => (z.enum(Object.keys(DONE) as [keyof typeof DONE]).safeParse(value).data ?? null);

type RuleValues = { requirement: string; gracePeriodDays: string } | null;

async function renderList(identity: Identity, timeZone: string, res: express.Response, values: z.output<typeof createForm>, problem: FormProblem | null, done: string | null = null, ruleValues: RuleValues = null): Promise<void> {
  const [organizations, every] = await Promise.all([identity.organizations.listOrganizations(), identity.phishingResistant.ruleFor(null)]);
  const rules = await identity.phishingResistant.rules();
  const rows = organizations.map((o) => {
    const own = rules.organizations.get(o.id);
    const passkeyRule = own ? `${own.required ? 'Required' : 'Not required'} (this organization)` : every.rule.required ? 'Required' : 'Not required';
    return { href: `/operator/organizations/${encodeURIComponent(o.id)}`, name: o.name, participantIds: o.participantIds.join(', '), passkeyRule };
  });
  const rule = phishingResistantView(every, false, timeZone);
  renderOperator(res, 'operator-organizations', { title: 'Organizations', rows, values, done, rule: ruleValues ? { ...rule, ...ruleValues } : rule }, problem);
}

/** The organization with id `id`, or null (names and participant IDs are not ids here). */
async function organizationById(identity: Identity, id: string): Promise<Organization | null> {
  try {
    const found = await identity.organizations.getOrganization(id);
    return found.id === id ? found : null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

async function renderOrganization(identity: Identity, timeZone: string, res: express.Response, organization: Organization, done: string | null, problem: FormProblem | null, participantId = '', ruleValues: RuleValues = null): Promise<void> {
  const [members, effective] = await Promise.all([identity.accounts.listInOrganization(organization.id), identity.phishingResistant.ruleFor(organization.id)]);
  const passkeys = await Promise.all(members.map(async ({ account, membership }) => (membership.delegatedAdministrator ? (await identity.passkeys.list(account.id)).length : null)));
  const rows = members.map(({ account, membership }, i) => ({ id: account.id, userId: account.userId, name: account.name, email: account.email, status: account.status, delegatedAdministrator: membership.delegatedAdministrator, passkeys: passkeys[i] }));
  const view = phishingResistantView(effective, true, timeZone);
  const rule = ruleValues ? { ...view, ...ruleValues } : view;
  const candidates = rows.filter((r) => !r.delegatedAdministrator && r.status === 'active');
  const quota = `${members.length} of ${ACCOUNT_QUOTA_PER_ORGANIZATION} accounts`;
  renderOperator(res, 'operator-organization', { title: organization.name, organization, rows, candidates, quota, done, participantId, rule }, problem);
}

/** Runs `act` on the organization `:id`, then redirects with `done`; refusals come back on the organization page. */
function organizationAction(identity: Identity, timeZone: string, act: (organization: Organization, req: express.Request, res: express.Response) => Promise<keyof typeof DONE | FormProblem>): express.RequestHandler {
  return async (req, res) => {
    const organization = await organizationById(identity, String(req.params.id));
    if (!organization) return notFound(res);
    const outcome = await act(organization, req, res);
    if (typeof outcome === 'string') return res.redirect(303, `/operator/organizations/${encodeURIComponent(organization.id)}?done=${outcome}`);
    const body = req.body as Record<string, unknown>;
    const ruleValues = 'requirement' in body ? { requirement: String(body.requirement ?? ''), gracePeriodDays: String(body.gracePeriodDays ?? '') } : null;
    await renderOrganization(identity, timeZone, res, (await organizationById(identity, organization.id)) ?? organization, null, outcome, String(body.participantId ?? ''), ruleValues);
  };
}

/** Routes of the organization screens (mounted under `/operator`). */
export function operatorOrganizationRoutes(identity: Identity, timeZone = 'UTC'): express.Router {
  const router = express.Router();
  const blank = { name: '', participantIds: '' };
  router.get('/organizations', (req, res) => {
    const done = doneOf(req.query.done);
    return renderList(identity, timeZone, res, blank, null, done ? DONE[done] : null);
  });
  router.use(operatorPhishingResistantRoutes(identity, (res, problem, ruleValues) => renderList(identity, timeZone, res, blank, problem, null, ruleValues)));
  router.post('/organizations', async (req, res) => {
    const form = createForm.safeParse(req.body);
    if (!form.success) return renderList(identity, timeZone, res, blank, MALFORMED_FORM);
    const participantIds = entriesOf(form.data.participantIds, /[\s,]+/).map((p) => p.toUpperCase());
    const created = await attempt(() => identity.organizations.createOrganization({ name: form.data.name, participantIds }, operatorOf(res).actor));
    if (isProblem(created)) return renderList(identity, timeZone, res, form.data, created);
    res.redirect(303, `/operator/organizations/${encodeURIComponent(created.id)}?done=created`);
  });
  router.get('/organizations/:id', async (req, res) => {
    const organization = await organizationById(identity, req.params.id);
    if (!organization) return notFound(res);
    const done = doneOf(req.query.done);
    await renderOrganization(identity, timeZone, res, organization, done ? DONE[done] : null, null);
  });
  router.post(
    '/organizations/:id/participant-ids',
    organizationAction(identity, timeZone, async (organization, req, res) => {
      const form = participantForm.safeParse(req.body);
      const value = (form.data?.participantId ?? '').trim().toUpperCase();
      const added = await attempt(() => identity.organizations.addParticipantId(organization.id, value, operatorOf(res).actor));
      return isProblem(added) ? added : 'participant';
    }),
  );
  router.post(
    '/organizations/:id/delegated-administrators',
    organizationAction(identity, timeZone, async (organization, req, res) => {
      const form = appointForm.safeParse(req.body);
      const members = await identity.accounts.listInOrganization(organization.id);
      const member = members.find((m) => m.account.id === form.data?.accountId);
      if (!member) return { status: 404, message: 'That account is not a member of this organization.', fieldErrors: { accountId: ['Choose a member of this organization.'] } };
      const changed = await attempt(() => identity.accounts.appointDelegatedAdministrator(member.account.id, organization.id, operatorOf(res).actor));
      return isProblem(changed) ? changed : changed ? 'appointed' : 'unchanged';
    }),
  );
  router.post(
    '/organizations/:id/phishing-resistant',
    organizationAction(identity, timeZone, async (organization, req, res) => (await saveRule(identity, res, organization.id, req.body)) ?? 'rule'),
  );
  return router;
}
