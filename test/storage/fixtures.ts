/**
 * Small builders for storage tests: valid domain records with unique names, so tests sharing one database
 * never collide.
 */
import type { Account, IdentityStores, Membership, Organization } from '../../identity/index.js';
import { newId, randomToken } from '../../lib/index.js';

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${randomToken(3).replace(/[^A-Za-z0-9]/g, '')}`;

/** An organization with one fresh participant ID. */
export function anOrganization(overrides: Partial<Organization> = {}): Organization {
  const id = unique().toUpperCase();
  return { id: newId(), name: `Org ${id}`, participantIds: [`P${id}`.slice(0, 16)], createdAt: new Date(), ...overrides };
}

/** An active account with a unique user ID and email. */
export function anAccount(overrides: Partial<Account> = {}): Account {
  const id = unique().toLowerCase();
  const now = new Date();
  return { id: newId(), userId: `user${id}`, name: `User ${id}`, email: `user${id}@example.com`, phone: '+852 5555 0000', status: 'active', passwordHash: null, operator: false, createdAt: now, updatedAt: now, ...overrides };
}

/** A membership of `account` in `organization`. */
export function aMembership(account: Account, organization: Organization, overrides: Partial<Membership> = {}): Membership {
  return { accountId: account.id, organizationId: organization.id, functions: ['EU_UserMaintenance'], delegatedAdministrator: false, createdAt: new Date(), ...overrides };
}

/** Creates an organization and returns it. */
export async function createdOrganization(stores: IdentityStores, overrides: Partial<Organization> = {}): Promise<Organization> {
  const organization = anOrganization(overrides);
  await stores.organizations.create(organization);
  return organization;
}

/** Creates an account in `organization` (quota 20) and returns it. */
export async function createdAccount(stores: IdentityStores, organization: Organization, overrides: Partial<Account> = {}): Promise<Account> {
  const account = anAccount(overrides);
  await stores.accounts.createWithMembership(account, aMembership(account, organization), 20);
  return account;
}
