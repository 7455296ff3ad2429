import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

describe('request page actions and their refusals (HTTP)', () => {
  let t: TestIdp;
  let c: TestConsole;
  let maker: { id: string; userId: string };
  let checker: { id: string; userId: string };
  let organizationId: string;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    maker = await t.createAccount({ userId: 'ra.maker', delegatedAdministrator: true });
    checker = await t.createAccount({ userId: 'ra.checker', delegatedAdministrator: true });
    organizationId = await t.organization();
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  async function submitted(userId: string) {
    const draft = await t.idp.identity.changeRequests.createDraft({ accountId: maker.id }, { organizationId, type: 'create_account', payload: { userId, name: 'Ra Person', email: `${userId}@example.com`, phone: '+852 5555 0111', functions: [] } });
    return t.idp.identity.changeRequests.submit({ accountId: maker.id }, draft.id);
  }
  const post = async (who: { id: string; userId: string }, path: string, form: Record<string, string> = {}) =>
    request(c.app).post(path).set('Cookie', await c.cookieFor(who, 'tok')).type('form').send({ _csrf: 'tok', ...form });

  it('offers the maker Reclaim but not Claim, and refuses the maker claiming their own request', async () => {
    const r = await submitted('ra.self');
    const page = await request(c.app).get(`/requests/${r.id}`).set('Cookie', await c.cookieFor(maker));
    expect(page.text).toContain('>Reclaim<');
    expect(page.text).not.toContain('>Claim<');
    const res = await post(maker, `/requests/${r.id}/claim`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('role="alert"');
    expect((await t.idp.identity.changeRequests.getRequest({ accountId: maker.id }, r.id)).status).toBe('ready_for_checker');
  });

  it('tells a second checker the request is already claimed, by whom', async () => {
    const other = await t.createAccount({ userId: 'ra.other', delegatedAdministrator: true });
    const r = await submitted('ra.twice');
    expect((await post(checker, `/requests/${r.id}/claim`)).status).toBe(303);
    const res = await post(other, `/requests/${r.id}/claim`);
    expect(res.status).toBe(409);
    expect(res.text).toContain('already claimed by Test ra.checker');
  });

  it('keeps the message a checker leaves when claiming, and shows it on the request page', async () => {
    const r = await submitted('ra.claim-message');
    expect((await post(checker, `/requests/${r.id}/claim`, { message: 'Looking at it <b>now</b>.' })).status).toBe(303);
    const view = await t.idp.identity.changeRequests.getRequest({ accountId: maker.id }, r.id);
    expect(view.steps.at(-1)).toMatchObject({ action: 'claimed', message: 'Looking at it <b>now</b>.' });
    const page = await request(c.app).get(`/requests/${r.id}`).set('Cookie', await c.cookieFor(maker, 'tok'));
    expect(page.text).toContain('Looking at it &lt;b&gt;now&lt;/b&gt;.');
  });

  it('requires a comment to reject, then rejects with it and returns the request to the maker', async () => {
    const r = await submitted('ra.reject');
    await post(checker, `/requests/${r.id}/claim`);
    const empty = await post(checker, `/requests/${r.id}/reject`, { comment: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Say why the request is rejected.');
    const res = await post(checker, `/requests/${r.id}/reject`, { comment: 'Wrong phone number.' });
    expect(res.status).toBe(303);
    const home = await request(c.app).get('/').set('Cookie', await c.cookieFor(maker));
    expect(home.text).toMatch(/Returned to me <span class="muted">\(1\)/);
  });

  it('refuses to confirm a version other than the one reviewed', async () => {
    const r = await submitted('ra.version');
    await post(checker, `/requests/${r.id}/claim`);
    const res = await post(checker, `/requests/${r.id}/confirm`, { version: String(r.version + 1) });
    expect(res.status).toBe(409);
    expect(res.text).toMatch(/changed since you reviewed it/);
    expect((await t.idp.identity.changeRequests.getRequest({ accountId: checker.id }, r.id)).status).toBe('claimed');
    await expect(t.idp.identity.accounts.getAccountByLogin('ra.version')).rejects.toThrow(/No account/);
  });

  it('lets the maker reclaim, then discard; and anyone clone into a new draft of their own', async () => {
    const r = await submitted('ra.cycle');
    expect((await post(maker, `/requests/${r.id}/reclaim`)).status).toBe(303);
    expect((await post(maker, `/requests/${r.id}/discard`)).status).toBe(303);
    const cloned = await post(checker, `/requests/${r.id}/clone`);
    expect(cloned.status).toBe(303);
    expect(cloned.headers.location).toMatch(/^\/requests\/[0-9a-f-]+\?done=clone$/);
    const page = await request(c.app).get(cloned.headers.location!).set('Cookie', await c.cookieFor(checker));
    expect(page.text).toContain('Copied into this new draft.');
    expect(page.text).toContain('>Submit to checker<');
  });
});
