/**
 * Who may use the console: accounts holding a delegated administrator membership, and operators (accounts
 * with the operator role), both looked up in-process by the session's `sub` on every request. A DA of several
 * organizations picks one; the choice is kept in a cookie and checked against the memberships on every
 * request, so a stale or forged choice only leads back to the picker. Operator pages (`/operator/…`) answer
 * 404 to everyone else, as if they did not exist.
 */
import type { Request, RequestHandler } from 'express';
import type { Identity, Organization } from '../identity/index.js';
import type { PortalSession } from '../portal-adapters/index.js';
import type { AdminContext } from './options.js';
import { notFound } from './render.js';

/** Cookie holding the id of the organization being administered. */
export const ORGANIZATION_COOKIE = 'admin_organization';

/** The signed-in operator, set on `res.locals.operator` by {@link requireAdministrator} (unset for others). */
export interface OperatorContext {
  accountId: string;
  /** The audit actor string of the operator's actions: `operator:<account id>`. */
  actor: string;
  ip: string | null;
}

/** What the console lets an account do: the organizations it administers and whether it is an operator (active accounts only). */
export async function consoleRoles(identity: Identity, accountId: string): Promise<{ organizations: Organization[]; operator: boolean }> {
  const view = await identity.accounts.findAccount(accountId);
  if (!view || view.account.status !== 'active') return { organizations: [], operator: false };
  return { organizations: view.memberships.filter((m) => m.delegatedAdministrator).map((m) => m.organization), operator: view.account.operator };
}

function chosenOrganization(req: Request, organizations: Organization[]): Organization | undefined {
  if (organizations.length === 1) return organizations[0];
  const pair = (req.headers.cookie ?? '').split(';').map((p) => p.trim().split('=')).find(([name]) => name === ORGANIZATION_COOKIE);
  const chosen = pair?.[1];
  return organizations.find((o) => o.id === chosen);
}

/**
 * Refuses (403 page) signed-in accounts that administer no organization and are not operators; otherwise sets
 * `res.locals.organizations` (possibly empty for an operator) and, for operators, `res.locals.operator`
 * ({@link OperatorContext}). Mount after `requireAuth()`.
 */
export function requireAdministrator(identity: Identity): RequestHandler {
  return async (req, res, next) => {
    const session = res.locals.session as PortalSession;
    const { organizations, operator } = await consoleRoles(identity, session.sub);
    if (organizations.length === 0 && !operator) {
      res.status(403).render('refused', { title: 'Not a delegated administrator', session });
      return;
    }
    res.locals.organizations = organizations;
    if (operator) res.locals.operator = { accountId: session.sub, actor: `operator:${session.sub}`, ip: req.ip ?? null } satisfies OperatorContext;
    next();
  };
}

/** Lets operators through; answers everyone else 404 (the operator pages do not exist for them). Mount after {@link requireAdministrator}. */
export function requireOperator(): RequestHandler {
  return (_req, res, next) => (res.locals.operator ? next() : notFound(res));
}

/**
 * Sets `res.locals.admin` ({@link AdminContext}) for the chosen organization, or sends the DA to
 * `/organization` to choose one (an operator who administers no organization goes to `/operator`).
 * Mount after {@link requireAdministrator}.
 */
export function requireOrganization(identity: Identity, timeZone: string): RequestHandler {
  return async (req, res, next) => {
    const session = res.locals.session as PortalSession;
    const organizations = res.locals.organizations as Organization[];
    if (organizations.length === 0) return res.redirect(303, '/operator');
    const organization = chosenOrganization(req, organizations);
    if (!organization) return res.redirect(303, '/organization');
    const actor = { accountId: session.sub, ip: req.ip ?? null };
    const taskCount = await identity.changeRequests.countTasks(actor, organization.id);
    const admin: AdminContext = { session, actor, organization, organizations, taskCount, timeZone };
    res.locals.admin = admin;
    next();
  };
}
