/**
 * Issue 8 §10 (docs/policies.md): a delegated administrator acts for one organization. An account-wide change
 * (suspend, reactivate, unlock, reset second factor, close) to an account that is also a member of another
 * organization goes `Sent to operator` after the checker, and nothing changes until the operator completes it.
 * The same change to an account of one organization is completed by the checker; a change of functions stays with
 * the organization's DAs whether the account is shared or not, and touches that membership only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_REASON_MESSAGES, type Account, type ChangeRequestActor, type ChangeRequestType, type Organization } from '../../identity/index.js';
import { newId, randomToken } from '../../lib/index.js';
import { createOidcAdapter, type OidcAdapter } from '../../storage/index.js';
import { lockouts, memberships } from '../../storage/schema.js';
import { createdOrganization } from '../storage/fixtures.js';
import { addAccount, openWorld, organizationWithDas, rejection, type ChangeRequestWorld } from './support.js';

let world: ChangeRequestWorld;
let Adapter: new (model: string) => OidcAdapter;
beforeAll(async () => {
  world = await openWorld();
  Adapter = createOidcAdapter(world.database, { encryptionKey: Buffer.alloc(32, 7) });
}, 60_000);
afterAll(() => world?.close(), 60_000);

/** How each account-wide type is set up so that it applies, and how to see that it was applied. */
const ACCOUNT_WIDE: Record<string, { prepare(account: Account): Promise<void>; applied(account: Account): Promise<boolean> }> = {
  suspend_account: { prepare: async () => {}, applied: async (a) => (await status(a)) === 'suspended' },
  reactivate_account: { prepare: (a) => world.identity.stores.accounts.setStatus(a.id, 'suspended', new Date()), applied: async (a) => (await status(a)) === 'active' },
  unlock_account: {
    prepare: async (a) => void (await world.database.db.insert(lockouts).values({ accountId: a.id, attempts: 5, windowStartedAt: new Date(), lockedAt: new Date() })),
    applied: async (a) => (await world.identity.stores.lockouts.find(a.id))?.lockedAt === null,
  },
  reset_second_factor: { prepare: registerApp, applied: async (a) => (await world.identity.stores.authenticators.findConfirmed(a.id)) === null },
  close_account: { prepare: async () => {}, applied: async (a) => (await status(a)) === 'closed' },
};

async function status(account: Account) {
  return (await world.identity.stores.accounts.findById(account.id))?.status;
}

/** A confirmed authenticator app registration, as the sign-in pages leave it. */
async function registerApp(account: Account): Promise<void> {
  const id = newId();
  await world.identity.stores.authenticators.savePending({ id, accountId: account.id, status: 'pending', secret: 'JBSWY3DPEHPK3PXP', createdAt: new Date(), confirmedAt: null, lastUsedStep: null });
  await world.identity.stores.authenticators.confirm(id, account.id, 1, new Date());
}

/** An IdP session and a grant with a refresh token for the account, as oidc-provider saves them. */
async function signedIn(accountId: string, scope = 'openid organization') {
  const sessionId = randomToken(16);
  const grantId = randomToken(16);
  const refresh = randomToken(16);
  await new Adapter('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid: randomToken(8), accountId, authorizations: { portal: { grantId } } }, 600);
  await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'portal', openid: { scope } }, 3600);
  await new Adapter('RefreshToken').upsert(refresh, { jti: refresh, kind: 'RefreshToken', grantId, accountId, clientId: 'portal', scope }, 3600);
  return { sessionId, refresh };
}

/** An account of `organization` that is also a member of a second organization (where it holds `EU_ECPSFTP`). */
async function sharedAccount(organization: Organization): Promise<{ account: Account; other: Organization }> {
  const account = await addAccount(world, organization);
  const other = await createdOrganization(world.identity.stores);
  await world.database.db.insert(memberships).values({ accountId: account.id, organizationId: other.id, functions: ['EU_ECPSFTP'], delegatedAdministrator: false, createdAt: new Date() });
  return { account, other };
}

/** Runs a request from draft to the checker's confirmation; returns the claimed request too. */
async function confirmed(maker: ChangeRequestActor, checker: ChangeRequestActor, organizationId: string, type: ChangeRequestType, payload: Record<string, unknown>) {
  const service = world.identity.changeRequests;
  const draft = await service.createDraft(maker, { organizationId, type, payload });
  await service.submit(maker, draft.id);
  const claimed = await service.claim(checker, draft.id);
  return { claimed, confirmed: await service.confirm(checker, draft.id, claimed.version) };
}

describe('an account-wide change to an account that is also a member of another organization', () => {
  for (const [type, { prepare, applied }] of Object.entries(ACCOUNT_WIDE) as Array<[ChangeRequestType, (typeof ACCOUNT_WIDE)[string]]>) {
    it(`${type}: the checker's confirmation sends it to the operator, and nothing changes until the operator completes it`, async () => {
      const { organization, actors, accounts } = await organizationWithDas(world);
      const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
      const { account } = await sharedAccount(organization);
      await prepare(account);
      const { sessionId } = await signedIn(account.id);
      const service = world.identity.changeRequests;

      const { claimed, confirmed: sent } = await confirmed(maker, checker, organization.id, type, { accountId: account.id });
      expect(sent.status).toBe('sent_to_operator');
      expect(sent.completedAt).toBeNull();
      expect(await applied(account)).toBe(false);
      expect(await service.completion(claimed)).toEqual({ by: 'operator', reason: 'shared_account' });
      expect(await new Adapter('Session').find(sessionId)).toBeDefined();
      expect(await service.completion(sent)).toEqual({ by: 'operator', reason: 'shared_account' });
      expect((await service.listForOperator()).items.map((r) => r.id)).toContain(sent.id);
      const [event] = await world.identity.stores.audit.list({ type: 'change_request.confirmed', accountId: account.id });
      expect(event?.data).toMatchObject({ status: 'sent_to_operator', operatorReason: 'shared_account' });
      await world.identity.mailDelivery.idle(); // the outbox delivers in the background, in no fixed order
      const toMaker = world.mails.find((m) => m.to === accounts[0]!.email && m.subject === `connect-iam: ${sent.reference} sent to operator`);
      expect(toMaker?.subject).toBe(`connect-iam: ${sent.reference} sent to operator`);
      expect(toMaker?.text).toContain(OPERATOR_REASON_MESSAGES.shared_account);
      expect(await rejection(service.confirm(checker, sent.id, claimed.version))).toMatchObject({ code: 'conflict' });
      expect(await applied(account)).toBe(false);

      await world.identity.mailDelivery.idle();
      const since = world.mails.length;
      const completed = await service.completeByOperator('operator:test', sent.id);
      expect(completed.status).toBe('completed');
      expect(await applied(account)).toBe(true);
      if (type === 'suspend_account' || type === 'close_account') expect(await new Adapter('Session').find(sessionId)).toBeUndefined();
      await world.identity.mailDelivery.idle();
      if (type === 'reset_second_factor') expect(world.mails.slice(since).map((m) => m.to)).toContain(account.email);
    });
  }

  it('the operator may reject it instead, and the account stays as it was', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const { account } = await sharedAccount(organization);
    const { confirmed: sent } = await confirmed(maker, checker, organization.id, 'suspend_account', { accountId: account.id });
    const rejected = await world.identity.changeRequests.rejectByOperator('operator:test', sent.id, 'Ask the other organization first.');
    expect(rejected.status).toBe('rejected');
    expect(await status(account)).toBe('active');
    expect(await world.identity.changeRequests.completion(rejected)).toEqual({ by: 'operator', reason: 'shared_account' });
  });
});

describe('the same change to an account of one organization', () => {
  for (const [type, { prepare, applied }] of Object.entries(ACCOUNT_WIDE) as Array<[ChangeRequestType, (typeof ACCOUNT_WIDE)[string]]>) {
    it(`${type}: the checker's confirmation completes it`, async () => {
      const { organization, actors } = await organizationWithDas(world);
      const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
      const account = await addAccount(world, organization);
      await prepare(account);
      const { claimed, confirmed: done } = await confirmed(maker, checker, organization.id, type, { accountId: account.id });
      expect(await world.identity.changeRequests.completion(claimed)).toEqual({ by: 'checker', reason: null });
      expect(done.status).toBe('completed');
      expect(await applied(account)).toBe(true);
    });
  }
});

describe('a change of functions', () => {
  it('on a shared account is completed by the checker, for that membership only, and ends only the grants that released functions', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const { account, other } = await sharedAccount(organization);
    const withFunctions = await signedIn(account.id, 'openid profile organization');
    const withoutFunctions = await signedIn(account.id, 'openid email');

    const { claimed, confirmed: done } = await confirmed(maker, checker, organization.id, 'change_functions', { accountId: account.id, functions: ['EU_ECPReportDownload'] });
    expect(done.status).toBe('completed');
    const byOrganization = Object.fromEntries((await world.identity.stores.accounts.listMemberships(account.id)).map((m) => [m.organizationId, m.functions]));
    expect(byOrganization).toEqual({ [organization.id]: ['EU_ECPReportDownload'], [other.id]: ['EU_ECPSFTP'] });

    expect(await new Adapter('RefreshToken').find(withFunctions.refresh)).toBeUndefined();
    expect(await new Adapter('RefreshToken').find(withoutFunctions.refresh)).toBeDefined();
    expect(await new Adapter('Session').find(withFunctions.sessionId)).toBeDefined();
    const [event] = await world.identity.stores.audit.list({ accountId: account.id, type: 'account.functions_changed' });
    expect(event?.data).toMatchObject({ before: ['EU_UserMaintenance'], after: ['EU_ECPReportDownload'], grants: 1, clients: ['portal'] });
    expect(await world.identity.changeRequests.completion(claimed)).toEqual({ by: 'checker', reason: null });
  });

  it('that leaves them as they were revokes nothing', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const account = await addAccount(world, organization);
    const { refresh } = await signedIn(account.id);
    await confirmed(maker, checker, organization.id, 'change_functions', { accountId: account.id, functions: ['EU_UserMaintenance'] });
    expect(await new Adapter('RefreshToken').find(refresh)).toBeDefined();
    const [event] = await world.identity.stores.audit.list({ accountId: account.id, type: 'account.functions_changed' });
    expect(event?.data).toMatchObject({ grants: 0, clients: [] });
  });
});
