import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberships } from '../../storage/schema.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

describe('admin console access and safety (HTTP)', () => {
  let t: TestIdp;
  let c: TestConsole;
  let da1: { id: string; userId: string };
  let da2: { id: string; userId: string };

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    da1 = await t.createAccount({ userId: 'ac.da1', delegatedAdministrator: true });
    da2 = await t.createAccount({ userId: 'ac.da2', delegatedAdministrator: true });
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const draft = (actorId: string, organizationId: string, userId: string, name = 'New Person') =>
    t.idp.identity.changeRequests.createDraft({ accountId: actorId }, { organizationId, type: 'create_account', payload: { userId, name, email: `${userId}@example.com`, phone: '+852 5555 0199', functions: ['EU_UserMaintenance'] } });

  it('sends a signed-out visitor to sign in at the IdP', async () => {
    const res = await request(c.app).get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/auth\/login\?returnTo=/);
  });

  it('refuses an account that is not a delegated administrator with a clear 403 page', async () => {
    const user = await t.createAccount({ userId: 'ac.user', functions: ['EU_SettlementDepository'] });
    const res = await request(c.app).get('/').set('Cookie', await c.cookieFor(user));
    expect(res.status).toBe(403);
    expect(res.text).toContain('This console is for delegated administrators');
    expect(res.headers['x-frame-options'] ?? res.headers['content-security-policy']).toBeTruthy();
  });

  it('shows a delegated administrator the dashboard with the task count and the accounts with the quota', async () => {
    const organizationId = await t.organization();
    const submitted = await draft(da2.id, organizationId, 'ac.task1');
    await t.idp.identity.changeRequests.submit({ accountId: da2.id }, submitted.id);
    const cookie = await c.cookieFor(da1);
    const home = await request(c.app).get('/').set('Cookie', cookie);
    expect(home.status).toBe(200);
    expect(home.text).toContain('To check');
    expect(home.text).toMatch(/UM_\d{8}/);
    expect(home.text).toContain('Create account ac.task1 (New Person)');
    expect(home.text).toMatch(/class="badge"[^>]*>1</);
    const accounts = await request(c.app).get('/accounts').set('Cookie', cookie);
    const count = await t.idp.identity.accounts.countInOrganization(organizationId);
    expect(accounts.text).toContain(`${count} of 20 accounts`);
    const searched = await request(c.app).get('/accounts?text=ac.da2').set('Cookie', cookie);
    expect(searched.text).toContain('ac.da2');
    expect(searched.text).not.toContain('ac.da1@example.com');
  });

  it('answers 404 for a request of another organization, to view it and to act on it', async () => {
    const otherOrganization = await t.newOrganization();
    const otherDa = await t.createAccount({ userId: 'ac.other', delegatedAdministrator: true, organization: otherOrganization });
    const foreign = await draft(otherDa.id, otherOrganization, 'ac.foreign');
    await t.idp.identity.changeRequests.submit({ accountId: otherDa.id }, foreign.id);
    const cookie = await c.cookieFor(da1, 'tok');
    expect((await request(c.app).get(`/requests/${foreign.id}`).set('Cookie', cookie)).status).toBe(404);
    const claim = await request(c.app).post(`/requests/${foreign.id}/claim`).set('Cookie', cookie).type('form').send({ _csrf: 'tok' });
    expect(claim.status).toBe(404);
    expect((await t.idp.identity.changeRequests.getRequest({ accountId: otherDa.id }, foreign.id)).status).toBe('ready_for_checker');
  });

  it('refuses a state-changing POST without the CSRF token with 403 and changes nothing', async () => {
    const organizationId = await t.organization();
    const submitted = await draft(da2.id, organizationId, 'ac.csrf');
    await t.idp.identity.changeRequests.submit({ accountId: da2.id }, submitted.id);
    const cookie = await c.cookieFor(da1, 'right-token');
    const without = await request(c.app).post(`/requests/${submitted.id}/claim`).set('Cookie', cookie).type('form').send({});
    const wrong = await request(c.app).post(`/requests/${submitted.id}/claim`).set('Cookie', cookie).type('form').send({ _csrf: 'wrong-token' });
    const create = await request(c.app).post('/accounts/new').set('Cookie', cookie).type('form').send({ userId: 'ac.nocsrf', name: 'X', email: 'ac.nocsrf@example.com', phone: '+852 5555 0100' });
    expect([without.status, wrong.status, create.status]).toEqual([403, 403, 403]);
    expect((await t.idp.identity.changeRequests.getRequest({ accountId: da1.id }, submitted.id)).status).toBe('ready_for_checker');
    const page = await t.idp.identity.changeRequests.list({ accountId: da1.id }, { organizationId, text: 'ac.nocsrf' });
    expect(page.total).toBe(0);
  });

  it('refuses a form body over 16 kB with 413', async () => {
    const res = await request(c.app).post('/accounts/new').set('Cookie', await c.cookieFor(da1, 'tok')).type('form').send({ _csrf: 'tok', name: 'x'.repeat(20_000) });
    expect(res.status).toBe(413);
  });

  it('renders a stored XSS payload in a name escaped', async () => {
    const organizationId = await t.organization();
    const payload = '<script>alert(1)</script>';
    const submitted = await draft(da2.id, organizationId, 'ac.xss', payload);
    await t.idp.identity.changeRequests.submit({ accountId: da2.id }, submitted.id);
    const cookie = await c.cookieFor(da1);
    for (const path of ['/', `/requests/${submitted.id}`]) {
      const res = await request(c.app).get(path).set('Cookie', cookie);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(payload);
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('shows field errors when the new account form is not valid, and creates no request', async () => {
    const cookie = await c.cookieFor(da1, 'tok');
    const res = await request(c.app).post('/accounts/new').set('Cookie', cookie).type('form').send({ _csrf: 'tok', userId: 'x', name: '', email: 'not-an-email', phone: 'abc', isAdmin: 'true' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('A user ID is 3–64 letters');
    expect(res.text).toContain('Enter a valid email address.');
    expect(res.text).toContain('aria-invalid="true"');
    expect((await t.idp.identity.changeRequests.list({ accountId: da1.id }, { organizationId: await t.organization(), view: 'mine' })).total).toBe(0);
  });

  it('lets a DA of two organizations choose one, and answers 404 to a choice outside their memberships', async () => {
    const second = await t.newOrganization();
    const third = await t.newOrganization();
    const both = await t.createAccount({ userId: 'ac.both', delegatedAdministrator: true });
    await t.idp.database.db.insert(memberships).values({ accountId: both.id, organizationId: second, functions: [], delegatedAdministrator: true, createdAt: new Date() });
    const cookie = await c.cookieFor(both, 'tok');
    const home = await request(c.app).get('/').set('Cookie', cookie);
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/organization');
    const picker = await request(c.app).get('/organization').set('Cookie', cookie);
    expect(picker.text).toContain('Test Organization');
    const foreign = await request(c.app).post('/organization').set('Cookie', cookie).type('form').send({ _csrf: 'tok', organizationId: third });
    expect(foreign.status).toBe(404);
    const chosen = await request(c.app).post('/organization').set('Cookie', cookie).type('form').send({ _csrf: 'tok', organizationId: second });
    expect(chosen.status).toBe(303);
    const choice = String(chosen.headers['set-cookie']).split(';')[0]!;
    const accounts = await request(c.app).get('/accounts').set('Cookie', `${cookie}; ${choice}`);
    expect(accounts.status).toBe(200);
    expect(accounts.text).toContain('1 of 20 accounts');
    const forged = await request(c.app).get('/').set('Cookie', `${cookie}; admin_organization=${third}`);
    expect(forged.headers.location).toBe('/organization');
  });
});
