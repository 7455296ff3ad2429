import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorld, organizationWithDas, newAccountPayload, rejection, addAccount, type ChangeRequestWorld } from './support.js';

let world: ChangeRequestWorld;
beforeAll(async () => {
  world = await openWorld();
}, 60_000);
afterAll(() => world?.close(), 60_000);

describe('the maker-checker life cycle', () => {
  it('creates the account when a draft is submitted, claimed by another DA and confirmed, recording and mailing each step', async () => {
    const { organization, actors, accounts } = await organizationWithDas(world, 3);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const payload = newAccountPayload({ email: `Mixed.${Date.now()}@Example.com` });

    const draft = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload, message: 'new joiner' });
    expect(draft).toMatchObject({ status: 'draft', reference: null, version: 1, makerName: accounts[0]!.name, title: `Create account ${payload.userId} (${payload.name})` });

    await world.identity.mailDelivery.idle();
    const mailsBefore = world.mails.length;
    const submitted = await service.submit(maker, draft.id, { message: 'please check' });
    expect(submitted.status).toBe('ready_for_checker');
    expect(submitted.reference).toMatch(/^UM_\d{8}$/);
    await world.identity.mailDelivery.idle(); // the outbox delivers in the background
    const submissionMails = world.mails.slice(mailsBefore);
    expect(submissionMails.map((m) => m.to).sort()).toEqual([accounts[1]!.email, accounts[2]!.email].sort());
    expect(submissionMails[0]!.subject).toBe(`connect-iam: ${submitted.reference} is ready for checker`);

    const claimed = await service.claim(checker, draft.id);
    expect(claimed).toMatchObject({ status: 'claimed', checkerId: checker.accountId, checkerName: accounts[1]!.name });
    expect(claimed.claimedAt).toBeInstanceOf(Date);

    const confirmed = await service.confirm(checker, draft.id, claimed.version, { message: 'ok' });
    expect(confirmed).toMatchObject({ status: 'completed', reference: submitted.reference });
    expect(confirmed.steps.map((s) => [s.action, s.status, s.message])).toEqual([
      ['created', 'draft', 'new joiner'],
      ['submitted', 'ready_for_checker', 'please check'],
      ['claimed', 'claimed', null],
      ['confirmed', 'completed', 'ok'],
    ]);
    const created = await world.identity.stores.accounts.findById(confirmed.accountId!);
    expect(created).toMatchObject({ userId: payload.userId, email: String(payload.email).toLowerCase(), status: 'active', passwordHash: null });
    const [membership] = await world.identity.stores.accounts.listMemberships(created!.id);
    expect(membership).toMatchObject({ organizationId: organization.id, functions: ['EU_ECPReportDownload'], delegatedAdministrator: false });

    const audit = await world.identity.stores.audit.list({ organizationId: organization.id });
    expect(audit.map((e) => e.type)).toEqual(expect.arrayContaining(['change_request.created', 'change_request.submitted', 'change_request.claimed', 'change_request.confirmed', 'account.created']));
    expect(audit.find((e) => e.type === 'account.created')).toMatchObject({ actor: checker.accountId, accountId: created!.id, data: expect.objectContaining({ reference: submitted.reference }) });
    await world.identity.mailDelivery.idle(); // the outbox delivers in the background, in no fixed order
    expect(world.mails).toContainEqual(expect.objectContaining({ to: accounts[0]!.email, subject: `connect-iam: ${submitted.reference} completed` }));
  });

  it('rejects only with a comment, and mails the comment to the maker', async () => {
    const { organization, actors, accounts } = await organizationWithDas(world);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const request = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    await service.submit(maker, request.id);
    await service.claim(checker, request.id);
    const missing = await rejection(service.reject(checker, request.id, '   '));
    expect(missing.code).toBe('validation_failed');
    expect(missing.fieldErrors).toEqual({ comment: ['Say why the request is rejected.'] });
    const rejected = await service.reject(checker, request.id, 'Wrong phone number');
    expect(rejected).toMatchObject({ status: 'rejected', checkerId: checker.accountId });
    expect(rejected.steps.at(-1)).toMatchObject({ action: 'rejected', message: 'Wrong phone number' });
    await world.identity.mailDelivery.idle();
    expect(world.mails).toContainEqual(expect.objectContaining({ to: accounts[0]!.email, text: expect.stringContaining('Comment: Wrong phone number') }));
    expect(await world.identity.stores.accounts.findByLogin(String(request.payload.userId))).toBeNull();
    const returned = await service.list(maker, { organizationId: organization.id, view: 'returned' });
    expect(returned.items.map((r) => r.id)).toEqual([request.id]);
  });

  it('lets the maker reclaim an unclaimed request, edit it (version 2) and submit it again under the same reference', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const request = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    const first = await service.submit(maker, request.id);
    expect((await rejection(service.reclaim(checker, request.id))).code).toBe('forbidden');
    const reclaimed = await service.reclaim(maker, request.id, { message: 'fixing the name' });
    expect(reclaimed).toMatchObject({ status: 'draft', reference: first.reference });
    const edited = await service.updateDraft(maker, request.id, { payload: newAccountPayload({ name: 'Fixed Name' }), version: 1 });
    expect(edited).toMatchObject({ version: 2, title: expect.stringContaining('(Fixed Name)') });
    const stale = await rejection(service.updateDraft(maker, request.id, { payload: newAccountPayload(), version: 1 }));
    expect(stale.code).toBe('conflict');
    expect((await service.submit(maker, request.id)).reference).toBe(first.reference);
    await service.claim(checker, request.id);
    expect((await rejection(service.reclaim(maker, request.id))).message).toMatch(/already claimed by .+ on \d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2} UTC/);
  });

  it('clones any request into a new draft of the cloning DA, and discards drafts only', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, other] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const source = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    await service.submit(maker, source.id);
    const copy = await service.clone(other, source.id);
    expect(copy).toMatchObject({ status: 'draft', makerId: other.accountId, clonedFromId: source.id, payload: source.payload, reference: null, version: 1 });
    expect((await rejection(service.discard(maker, source.id))).code).toBe('conflict');
    expect((await rejection(service.discard(maker, copy.id))).code).toBe('forbidden');
    expect((await service.discard(other, copy.id)).status).toBe('discarded');
    expect((await rejection(service.submit(other, copy.id))).code).toBe('conflict');
  });

  it('refuses self-approval: the maker can neither claim nor confirm their own request', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const service = world.identity.changeRequests;
    const request = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() });
    await service.submit(maker, request.id);
    const ownClaim = await rejection(service.claim(maker, request.id));
    expect(ownClaim).toMatchObject({ code: 'forbidden', message: 'You made this request; a different delegated administrator must check it.' });
    const claimed = await service.claim(checker, request.id);
    const ownConfirm = await rejection(service.confirm(maker, request.id, claimed.version));
    expect(ownConfirm.code).toBe('forbidden');
    expect((await service.getRequest(checker, request.id)).status).toBe('claimed');
    const refused = await world.identity.stores.audit.list({ organizationId: organization.id, type: 'change_request.confirmation_refused' });
    expect(refused[0]?.data).toMatchObject({ reason: 'self_approval' });
  });

  it('answers not_found to a DA of another organization for every operation, and to a non-DA member', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [typeof actors[0], typeof actors[0]];
    const { organization: otherOrganization, actors: outsiders } = await organizationWithDas(world);
    const outsider = outsiders[0]!;
    const member = { accountId: (await addAccount(world, organization)).id };
    const service = world.identity.changeRequests;
    const target = await addAccount(world, organization);
    const request = await service.createDraft(maker, { organizationId: organization.id, type: 'suspend_account', payload: { accountId: target.id } });
    await service.submit(maker, request.id);
    for (const intruder of [outsider, member]) {
      const attempts = [
        () => service.getRequest(intruder, request.id),
        () => service.updateDraft(intruder, request.id, { payload: { accountId: target.id }, version: 1 }),
        () => service.submit(intruder, request.id),
        () => service.reclaim(intruder, request.id),
        () => service.clone(intruder, request.id),
        () => service.discard(intruder, request.id),
        () => service.claim(intruder, request.id),
        () => service.confirm(intruder, request.id, 1),
        () => service.reject(intruder, request.id, 'no'),
        () => service.createDraft(intruder, { organizationId: organization.id, type: 'create_account', payload: newAccountPayload() }),
        () => service.list(intruder, { organizationId: organization.id }),
        () => service.countTasks(intruder, organization.id),
      ];
      for (const attempt of attempts) expect((await rejection(attempt())).code).toBe('not_found');
    }
    const crossTarget = await rejection(service.createDraft(outsider, { organizationId: otherOrganization.id, type: 'suspend_account', payload: { accountId: target.id } }));
    expect(crossTarget).toMatchObject({ code: 'not_found', fieldErrors: { accountId: ['Choose an account of this organization.'] } });
    expect((await service.getRequest(checker, request.id)).status).toBe('ready_for_checker');
  });
});
