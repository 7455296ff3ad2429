import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainError } from '../../lib/index.js';
import { addAccount, newAccountPayload, openWorld, organizationWithDas, rejection, type ChangeRequestWorld } from './support.js';

let world: ChangeRequestWorld;
beforeAll(async () => {
  world = await openWorld();
}, 60_000);
afterAll(() => world?.close(), 60_000);

/** Settles `attempts` concurrently: the fulfilled values and the DomainErrors of the rejected ones. */
async function race<T>(attempts: Array<Promise<T>>): Promise<{ won: T[]; lost: DomainError[] }> {
  const results = await Promise.allSettled(attempts);
  return {
    won: results.filter((r): r is PromiseFulfilledResult<Awaited<T>> => r.status === 'fulfilled').map((r) => r.value),
    lost: results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as DomainError),
  };
}

describe('change requests under concurrency', () => {
  it('creates exactly one account when 10 confirmations race at 19 of 20 accounts; the others get the quota error and stay claimed', async () => {
    const { organization, actors } = await organizationWithDas(world, 2);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const requests = [];
    for (let i = 0; i < 10; i++) {
      const draft = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
      await service.submit(maker, draft.id);
      requests.push(await service.claim(checker, draft.id));
    }
    while ((await world.identity.stores.accounts.countInOrganization(organization.id)) < 19) await addAccount(world, organization);

    const { won, lost } = await race(requests.map((r) => service.confirm(checker, r.id, r.version)));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(9);
    for (const error of lost) expect(error).toMatchObject({ code: 'quota_exceeded', message: 'The organization has 20 of 20 accounts; the limit is 20.' });
    expect(await world.identity.stores.accounts.countInOrganization(organization.id)).toBe(20);
    const statuses = await Promise.all(requests.map(async (r) => (await service.getRequest(checker, r.id)).status));
    expect(statuses.filter((s) => s === 'completed')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'claimed')).toHaveLength(9);
  });

  it('refuses to submit a new account when the organization is full, saying the limit and the count', async () => {
    const { organization, actors } = await organizationWithDas(world, 2);
    const service = world.identity.changeRequests;
    while ((await world.identity.stores.accounts.countInOrganization(organization.id)) < 20) await addAccount(world, organization);
    const draft = await service.createDraft(actors[0]!, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    const error = await rejection(service.submit(actors[0]!, draft.id));
    expect(error).toMatchObject({ code: 'quota_exceeded', message: 'The organization has 20 of 20 accounts; the limit is 20.' });
    expect((await service.getRequest(actors[0]!, draft.id)).status).toBe('draft');
  });

  it('lets one of two checkers claiming at once win; the other learns who claimed it and when', async () => {
    const { organization, actors, accounts } = await organizationWithDas(world, 3);
    const [maker, first, second] = actors as [typeof actors[0], typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const draft = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    const { reference } = await service.submit(maker, draft.id);
    const { won, lost } = await race([service.claim(first, draft.id), service.claim(second, draft.id)]);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = won[0]!;
    const winnerName = accounts.find((a) => a.id === winner.checkerId)!.name;
    expect(lost[0]).toMatchObject({ code: 'conflict', message: expect.stringMatching(new RegExp(`^${reference} is already claimed by ${winnerName} on \\d{2}-\\w{3}-\\d{4} \\d{2}:\\d{2} UTC\\.$`)) });
  });

  it('lets one of two simultaneous confirmations win; the other gets a clear "already completed"', async () => {
    const { organization, actors } = await organizationWithDas(world, 2);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const draft = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    await service.submit(maker, draft.id);
    const claimed = await service.claim(checker, draft.id);
    const before = await world.identity.stores.accounts.countInOrganization(organization.id);
    const { won, lost } = await race([service.confirm(checker, draft.id, claimed.version), service.confirm(checker, draft.id, claimed.version)]);
    expect(won).toHaveLength(1);
    expect(lost[0]).toMatchObject({ code: 'conflict', message: expect.stringMatching(/^UM_\d{8} is already completed/) });
    expect(await world.identity.stores.accounts.countInOrganization(organization.id)).toBe(before + 1);
  });

  it('refuses to confirm a request that changed since the checker reviewed it, and applies nothing', async () => {
    const { organization, actors } = await organizationWithDas(world, 2);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const draft = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    const reviewed = await service.submit(maker, draft.id);
    await service.reclaim(maker, draft.id);
    const changed = newAccountPayload({ functions: ['EU_ECPAdmin'] });
    await service.updateDraft(maker, draft.id, { payload: changed, version: reviewed.version });
    await service.submit(maker, draft.id);
    await service.claim(checker, draft.id);
    const error = await rejection(service.confirm(checker, draft.id, reviewed.version));
    expect(error).toMatchObject({ code: 'conflict', message: 'The request changed since you reviewed it (you saw version 1; it is now version 2). Review it again.' });
    expect((await service.getRequest(checker, draft.id)).status).toBe('claimed');
    expect(await world.identity.stores.accounts.findByLogin(String(changed.userId))).toBeNull();
    expect((await service.confirm(checker, draft.id, 2)).status).toBe('completed');
  });

  it('refuses to confirm a new account whose email was registered after submission, saying which field, and keeps the request claimed', async () => {
    const { organization, actors } = await organizationWithDas(world, 2);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const payload = newAccountPayload();
    const first = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload });
    const second = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload({ email: payload.email }) });
    for (const draft of [first, second]) await service.submit(maker, draft.id);
    for (const draft of [first, second]) await service.claim(checker, draft.id);
    await service.confirm(checker, first.id, 1);
    const error = await rejection(service.confirm(checker, second.id, 1));
    expect(error).toMatchObject({ code: 'conflict', fieldErrors: { email: ['This email address is already registered to an account.'] } });
    expect((await service.getRequest(checker, second.id)).status).toBe('claimed');
  });
});
