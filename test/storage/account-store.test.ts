import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityStores } from '../../identity/index.js';
import { DomainError, newId } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { memberships } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';
import { aMembership, anAccount, createdAccount, createdOrganization } from './fixtures.js';

/** The error a promise rejects with, or a failure when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

let database: Database;
let stores: IdentityStores;

beforeAll(async () => {
  database = await openTestDatabase();
  stores = createIdentityStores(database);
}, 60_000);
afterAll(() => database?.close(), 60_000);

describe('accounts and organizations in PostgreSQL', () => {
  it('lets exactly one of 10 concurrent creations through when the organization holds 19 of 20 accounts', async () => {
    const organization = await createdOrganization(stores);
    for (let i = 0; i < 19; i++) await createdAccount(stores, organization);
    const attempts = Array.from({ length: 10 }, () => {
      const account = anAccount();
      return stores.accounts.createWithMembership(account, aMembership(account, organization), 20);
    });
    const results = await Promise.allSettled(attempts);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as DomainError);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(9);
    for (const error of refused) {
      expect(error.code).toBe('quota_exceeded');
      expect(error.message).toBe('The organization has 20 of 20 accounts; the limit is 20.');
    }
    expect(await stores.accounts.countInOrganization(organization.id)).toBe(20);
  });

  it('refuses an email already registered in another letter case, saying which field', async () => {
    const organization = await createdOrganization(stores);
    const first = await createdAccount(stores, organization);
    const second = anAccount({ email: first.email.toUpperCase() });
    const error = await rejection(stores.accounts.createWithMembership(second, aMembership(second, organization), 20));
    expect(error.code).toBe('conflict');
    expect(error.fieldErrors).toEqual({ email: [expect.stringContaining('already registered')] });
    expect(await stores.accounts.findById(second.id)).toBeNull();
  });

  it('refuses a user ID already taken in another letter case, saying which field', async () => {
    const organization = await createdOrganization(stores);
    const first = await createdAccount(stores, organization);
    const second = anAccount({ userId: first.userId.toUpperCase() });
    const error = await rejection(stores.accounts.createWithMembership(second, aMembership(second, organization), 20));
    expect(error.code).toBe('conflict');
    expect(Object.keys(error.fieldErrors ?? {})).toEqual(['userId']);
  });

  it('answers not_found when the organization does not exist, and creates nothing', async () => {
    const account = anAccount();
    const error = await rejection(stores.accounts.createWithMembership(account, { ...aMembership(account, { id: newId() } as never) }, 20));
    expect(error.code).toBe('not_found');
    expect(await stores.accounts.findById(account.id)).toBeNull();
  });

  it('finds an account by user ID or email in any letter case, with its memberships and their organization', async () => {
    const organization = await createdOrganization(stores, { participantIds: [`Q${Date.now().toString(36).toUpperCase()}`, 'ZZ' + Date.now().toString(36).slice(-6).toUpperCase()] });
    const account = await createdAccount(stores, organization);
    expect((await stores.accounts.findByLogin(account.userId.toUpperCase()))?.id).toBe(account.id);
    expect((await stores.accounts.findByLogin(account.email.toUpperCase()))?.id).toBe(account.id);
    expect(await stores.accounts.findByLogin('nobody@example.com')).toBeNull();
    const [membership] = await stores.accounts.listMemberships(account.id);
    expect(membership?.functions).toEqual(['EU_UserMaintenance']);
    expect(membership?.organization).toEqual(organization);
  });

  it('loads the account view in one statement: the account, every membership oldest first, each organization with its participant IDs in order', async () => {
    const stamp = Date.now().toString(36).toUpperCase();
    const first = await createdOrganization(stores, { participantIds: [`V${stamp}B`, `V${stamp}A`, `V${stamp}C`] });
    const second = await createdOrganization(stores);
    const account = await createdAccount(stores, first);
    await database.db.insert(memberships).values(aMembership(account, second, { functions: ['EU_ECPSFTP', 'EU_UserMaintenance'], delegatedAdministrator: true, createdAt: new Date(Date.now() + 1000) }));
    const view = await stores.accounts.findView(account.id);
    expect(view?.account).toEqual(await stores.accounts.findById(account.id));
    expect(view?.memberships.map((m) => m.organization)).toEqual([first, second]);
    expect(view?.memberships[0]).toMatchObject({ accountId: account.id, organizationId: first.id, functions: ['EU_UserMaintenance'], delegatedAdministrator: false });
    expect(await stores.accounts.listMemberships(account.id)).toEqual(view?.memberships);
    expect(view?.memberships[1]).toMatchObject({ accountId: account.id, organizationId: second.id, functions: ['EU_ECPSFTP', 'EU_UserMaintenance'], delegatedAdministrator: true });
    expect(view?.memberships[1]?.createdAt).toBeInstanceOf(Date);
  });

  it('answers null for an unknown or malformed account id, and no memberships for an account without any', async () => {
    expect(await stores.accounts.findView(newId())).toBeNull();
    expect(await stores.accounts.findView('not-a-uuid')).toBeNull();
    const organization = await createdOrganization(stores);
    const account = await createdAccount(stores, organization);
    await database.db.delete(memberships).where(eq(memberships.accountId, account.id));
    expect(await stores.accounts.findView(account.id)).toEqual({ account: await stores.accounts.findById(account.id), memberships: [] });
  });

  it('updates the password hash and status, and says not_found for an unknown account', async () => {
    const organization = await createdOrganization(stores);
    const account = await createdAccount(stores, organization);
    const later = new Date(account.updatedAt.getTime() + 60_000);
    await stores.accounts.updatePasswordHash(account.id, '$argon2id$v=19$m=19456,t=2,p=1$x$y', later);
    await stores.accounts.setStatus(account.id, 'suspended', later);
    expect(await stores.accounts.findById(account.id)).toMatchObject({ passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$x$y', status: 'suspended', updatedAt: later });
    expect((await rejection(stores.accounts.setStatus(newId(), 'closed', later))).code).toBe('not_found');
  });
});

describe('organizations in PostgreSQL', () => {
  it('finds an organization by id, by name in any case and by any of its participant IDs', async () => {
    const organization = await createdOrganization(stores, { participantIds: ['B01234', 'CXYZ'] });
    expect(await stores.organizations.findByReference(organization.id)).toEqual(organization);
    expect(await stores.organizations.findByReference(organization.name.toLowerCase())).toEqual(organization);
    expect(await stores.organizations.findByReference('CXYZ')).toEqual(organization);
    expect(await stores.organizations.findByReference('no-such-org')).toBeNull();
    expect(await stores.organizations.findById('not-a-uuid')).toBeNull();
  });

  it('refuses a participant ID that another organization holds, and a name used in another letter case', async () => {
    const taken = await createdOrganization(stores);
    const byId = await rejection(stores.organizations.create({ id: newId(), name: 'Fresh name', participantIds: ['FRESH1', taken.participantIds[0]!], createdAt: new Date() }));
    expect(byId.code).toBe('conflict');
    expect(byId.message).toContain(taken.participantIds[0]);
    expect(Object.keys(byId.fieldErrors ?? {})).toEqual(['participantIds']);
    const byName = await rejection(stores.organizations.create({ id: newId(), name: taken.name.toUpperCase(), participantIds: ['FRESH2'], createdAt: new Date() }));
    expect(Object.keys(byName.fieldErrors ?? {})).toEqual(['name']);
    expect(await stores.organizations.findByReference('FRESH1')).toBeNull();
  });
});

describe('the audit log in PostgreSQL', () => {
  it('lists appended events newest first, filtered by account, organization and type', async () => {
    const accountId = newId();
    const organizationId = newId();
    const base = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 3; i++) {
      await stores.audit.append({ id: newId(), type: i === 2 ? 'account.locked' : 'account.sign_in_failed', occurredAt: new Date(base + i * 1000), accountId, organizationId, actor: null, ip: '192.0.2.1', data: { attempt: i } });
    }
    const all = await stores.audit.list({ accountId });
    expect(all.map((e) => e.data)).toEqual([{ attempt: 2 }, { attempt: 1 }, { attempt: 0 }]);
    expect(await stores.audit.list({ organizationId, type: 'account.locked' })).toHaveLength(1);
    expect(await stores.audit.list({ accountId, limit: 1 })).toHaveLength(1);
    expect(await stores.audit.list({ accountId: 'not-a-uuid' })).toEqual([]);
  });
});
