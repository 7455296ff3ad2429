import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../lib/index.js';
import { createOidcAdapter, type OidcAdapter } from '../../storage/index.js';
import { addAccount, openWorld, organizationWithDas, rejection, type ChangeRequestWorld } from './support.js';
import type { ChangeRequestActor, ChangeRequestType } from '../../identity/index.js';

let world: ChangeRequestWorld;
let Adapter: new (model: string) => OidcAdapter;
beforeAll(async () => {
  world = await openWorld();
  Adapter = createOidcAdapter(world.database, { encryptionKey: Buffer.alloc(32, 7) });
}, 60_000);
afterAll(() => world?.close(), 60_000);

/** Runs a request of `type` about `accountId` from draft to the checker's confirmation. */
async function confirmed(maker: ChangeRequestActor, checker: ChangeRequestActor, organizationId: string, type: ChangeRequestType, payload: Record<string, unknown>) {
  const service = world.identity.changeRequests;
  const draft = await service.createDraft(maker, { organizationId, type, payload });
  await service.submit(maker, draft.id);
  const claimed = await service.claim(checker, draft.id);
  return service.confirm(checker, draft.id, claimed.version);
}

/** An IdP session and a grant with a refresh token for the account, as oidc-provider saves them. */
async function signedIn(accountId: string) {
  const sessionId = randomToken(16);
  const grantId = randomToken(16);
  const refresh = randomToken(16);
  await new Adapter('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid: randomToken(8), accountId }, 600);
  await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'portal' }, 3600);
  await new Adapter('RefreshToken').upsert(refresh, { jti: refresh, kind: 'RefreshToken', grantId, accountId, clientId: 'portal' }, 3600);
  return { sessionId, refresh };
}

describe('changes applied by confirmed requests', () => {
  it('suspends the account and ends its IdP sessions and grants; reactivation makes it active again', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const user = await addAccount(world, organization);
    const { sessionId, refresh } = await signedIn(user.id);
    expect(await new Adapter('Session').find(sessionId)).toBeDefined();

    const suspension = await confirmed(maker, checker, organization.id, 'suspend_account', { accountId: user.id });
    expect(suspension.status).toBe('completed');
    expect((await world.identity.stores.accounts.findById(user.id))?.status).toBe('suspended');
    expect(await new Adapter('Session').find(sessionId)).toBeUndefined();
    expect(await new Adapter('RefreshToken').find(refresh)).toBeUndefined();
    const [event] = await world.identity.stores.audit.list({ accountId: user.id, type: 'account.suspended' });
    expect(event?.data).toMatchObject({ sessions: 1, grants: 1, reference: suspension.reference });

    await confirmed(maker, checker, organization.id, 'reactivate_account', { accountId: user.id });
    expect((await world.identity.stores.accounts.findById(user.id))?.status).toBe('active');
  });

  it('closes an account, ending its sessions, and refuses to submit a suspension of a closed account', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const user = await addAccount(world, organization);
    const { sessionId } = await signedIn(user.id);
    await confirmed(maker, checker, organization.id, 'close_account', { accountId: user.id });
    expect((await world.identity.stores.accounts.findById(user.id))?.status).toBe('closed');
    expect(await new Adapter('Session').find(sessionId)).toBeUndefined();
    const draft = await world.identity.changeRequests.createDraft(maker, { organizationId: organization.id, type: 'suspend_account', payload: { accountId: user.id } });
    expect(await rejection(world.identity.changeRequests.submit(maker, draft.id))).toMatchObject({ code: 'conflict', message: `${user.userId} is closed.` });
  });

  it('replaces the functions of the membership and records before and after', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const user = await addAccount(world, organization);
    await confirmed(maker, checker, organization.id, 'change_functions', { accountId: user.id, functions: ['EU_ECPSFTP', 'EU_SettlementDepository'] });
    const [membership] = await world.identity.stores.accounts.listMemberships(user.id);
    expect(membership?.functions).toEqual(['EU_ECPSFTP', 'EU_SettlementDepository']);
    const [event] = await world.identity.stores.audit.list({ accountId: user.id, type: 'account.functions_changed' });
    expect(event?.data).toMatchObject({ before: ['EU_UserMaintenance'], after: ['EU_ECPSFTP', 'EU_SettlementDepository'] });
  });

  it('unlocks a locked account', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const user = await addAccount(world, organization);
    const now = new Date();
    for (let i = 0; i < 5; i++) await world.identity.stores.lockouts.reserveAttempt(user.id, { maxFailures: 5, windowSeconds: 1800, maxConsecutiveFailures: 20 }, now);
    expect(await world.identity.stores.lockouts.lockIfExhausted(user.id, { maxFailures: 5, windowSeconds: 1800, maxConsecutiveFailures: 20 }, now)).toBe(true);
    await confirmed(maker, checker, organization.id, 'unlock_account', { accountId: user.id });
    expect(await world.identity.stores.lockouts.find(user.id)).toMatchObject({ lockedAt: null, attempts: 0 });
  });

  it('sends a DA appointment to the operator after the checker, and the operator completes it', async () => {
    const { organization, actors, accounts } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const user = await addAccount(world, organization);
    const sent = await confirmed(maker, checker, organization.id, 'appoint_delegated_administrator', { accountId: user.id });
    expect(sent.status).toBe('sent_to_operator');
    expect((await world.identity.stores.accounts.listMemberships(user.id))[0]?.delegatedAdministrator).toBe(false);
    const queue = await world.identity.changeRequests.listForOperator();
    expect(queue.items.map((r) => r.id)).toContain(sent.id);

    const completed = await world.identity.changeRequests.completeByOperator('operator:test', sent.id, { message: 'appointed' });
    expect(completed).toMatchObject({ status: 'completed', steps: expect.arrayContaining([expect.objectContaining({ action: 'completed', actor: 'operator:test' })]) });
    expect((await world.identity.stores.accounts.listMemberships(user.id))[0]?.delegatedAdministrator).toBe(true);
    await world.identity.mailDelivery.idle(); // the outbox delivers in the background, in no fixed order
    expect(world.mails).toContainEqual(expect.objectContaining({ to: accounts[0]!.email, subject: `connect-iam: ${sent.reference} completed` }));
    expect(await rejection(world.identity.changeRequests.completeByOperator('operator:test', sent.id))).toMatchObject({ code: 'conflict' });
    const [event] = await world.identity.stores.audit.list({ accountId: user.id, type: 'account.delegated_administrator_appointed' });
    expect(event?.actor).toBe('operator:test');
  });
});

describe('the dashboard', () => {
  it('lists tasks to check, my requests and history, searchable by reference and text, hiding other makers’ drafts', async () => {
    const { organization, actors } = await organizationWithDas(world, 2);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const service = world.identity.changeRequests;
    const target = await addAccount(world, organization);
    const draft = await service.createDraft(maker, { organizationId: organization.id, type: 'unlock_account', payload: { accountId: target.id } });
    const submitted = await service.submit(maker, (await service.createDraft(maker, { organizationId: organization.id, type: 'suspend_account', payload: { accountId: target.id } })).id);
    const base = { organizationId: organization.id };
    expect((await service.list(checker, { ...base, view: 'to_check' })).items.map((r) => r.id)).toEqual([submitted.id]);
    expect((await service.list(maker, { ...base, view: 'to_check' })).total).toBe(0);
    expect((await service.list(maker, { ...base, view: 'mine' })).items.map((r) => r.id)).toEqual([submitted.id, draft.id]);
    expect((await service.list(checker, { ...base, view: 'all' })).items.map((r) => r.id)).toEqual([submitted.id]);
    expect((await service.list(checker, { ...base, text: submitted.reference!.toLowerCase() })).items).toHaveLength(1);
    expect((await service.list(maker, { ...base, text: target.userId, types: ['unlock_account'] })).items.map((r) => r.id)).toEqual([draft.id]);
    expect((await service.list(maker, { ...base, text: '100%_' })).total).toBe(0);
    expect(await service.countTasks(checker, organization.id)).toBe(1);
    expect((await service.list(checker, { ...base, view: 'history' })).total).toBe(0);
    expect((await service.list(checker, { ...base, from: new Date(Date.now() + 60_000) })).total).toBe(0);
    expect(await rejection(service.getRequest(checker, draft.id))).toMatchObject({ code: 'not_found' });
    expect((await rejection(service.list(checker, { ...base, statuses: ['nope' as never] }))).fieldErrors).toHaveProperty('statuses');
  });
});
