/**
 * Who may use the console: accounts holding a delegated administrator membership (looked up in-process by
 * the session's `sub`). A DA of several organizations picks one; the choice is kept in a cookie and checked
 * against the memberships on every request, so a stale or forged choice only leads back to the picker.
 */
import type { Request, RequestHandler } from 'express';
import type { Identity, Organization } from '../identity/index.js';
import type { PortalSession } from '../portal-adapters/index.js';
import type { AdminContext } from './options.js';

/** Cookie holding the id of the organization being administered. */
export const ORGANIZATION_COOKIE = 'admin_organization';

/** The organizations `accountId` administers (active accounts only). */
export async function administeredOrganizations(identity: Identity, accountId: string): Promise<Organization[]> {
  const view = await identity.accounts.findAccount(accountId);
  if (!view || view.account.status !== 'active') return [];
  return view.memberships.filter((m) => m.delegatedAdministrator).map((m) => m.organization);
}

function chosenOrganization(req: Request, organizations: Organization[]): Organization | undefined {
  if (organizations.length === 1) return organizations[0];
  const pair = (req.headers.cookie ?? '').split(';').map((p) => p.trim().split('=')).find(([name]) => name === ORGANIZATION_COOKIE);
  const chosen = pair?.[1];
  return organizations.find((o) => o.id === chosen);
}

/**
 * Refuses (403 page) signed-in accounts that administer no organization; otherwise sets
 * `res.locals.organizations`. Mount after `requireAuth()`.
 */
export function requireAdministrator(identity: Identity): RequestHandler {
  return async (_req, res, next) => {
    const session = res.locals.session as PortalSession;
    const organizations = await administeredOrganizations(identity, session.sub);
    if (organizations.length === 0) {
      res.status(403).render('refused', { title: 'Not a delegated administrator', session });
      return;
    }
    res.locals.organizations = organizations;
    next();
  };
}

/**
 * Sets `res.locals.admin` ({@link AdminContext}) for the chosen organization, or sends the DA to
 * `/organization` to choose one. Mount after {@link requireAdministrator}.
 */
export function requireOrganization(identity: Identity, timeZone: string): RequestHandler {
  return async (req, res, next) => {
    const session = res.locals.session as PortalSession;
    const organizations = res.locals.organizations as Organization[];
    const organization = chosenOrganization(req, organizations);
    if (!organization) return res.redirect(303, '/organization');
    const actor = { accountId: session.sub, ip: req.ip ?? null };
    const taskCount = await identity.changeRequests.countTasks(actor, organization.id);
    const admin: AdminContext = { session, actor, organization, organizations, taskCount, timeZone };
    res.locals.admin = admin;
    next();
  };
}
