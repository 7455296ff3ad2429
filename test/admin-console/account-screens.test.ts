import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerApp } from '../support/authenticator.js';
import { artifactPath, launchBrowser } from '../support/browser.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

type Who = { id: string; userId: string };

describe('account list, detail and change forms (HTTP)', () => {
  let t: TestIdp;
  let c: TestConsole;
  let da1: Who;
  let da2: Who;
  let organizationId: string;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t, { timeZone: 'Asia/Hong_Kong' });
    da1 = await t.createAccount({ userId: 'as.da1', delegatedAdministrator: true });
    da2 = await t.createAccount({ userId: 'as.da2', delegatedAdministrator: true });
    organizationId = await t.organization();
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const get = async (path: string, who: Who = da1) => request(c.app).get(path).set('Cookie', await c.cookieFor(who));
  const post = async (path: string, form: Record<string, string | string[]> = {}, who: Who = da1) =>
    request(c.app).post(path).set('Cookie', await c.cookieFor(who, 'tok')).type('form').send({ _csrf: 'tok', ...form });
  const myRequests = async () => (await t.idp.identity.changeRequests.list({ accountId: da1.id }, { organizationId, view: 'mine' })).total;
  const lock = async (user: { userId: string }) => {
    for (let i = 0; i < 5; i++) await t.idp.identity.passwordSignIn.verifyPassword(user.userId, 'a wrong password!');
    expect((await t.idp.identity.stores.lockouts.find((await t.idp.identity.accounts.getAccountByLogin(user.userId)).account.id))?.lockedAt).toBeTruthy();
  };
  const membership = async (accountId: string) => (await t.idp.identity.accounts.findAccount(accountId))!.memberships.find((m) => m.organizationId === organizationId)!;
  const systemClock = { now: () => new Date() };

  /** da2 claims and confirms the request at the version it reviewed; returns the request as it ends. */
  async function checkAndConfirm(location: string) {
    const id = /^\/requests\/([0-9a-f-]+)\?done=submitted$/.exec(location)?.[1];
    expect(id).toBeTruthy();
    const claimed = await t.idp.identity.changeRequests.claim({ accountId: da2.id }, id!);
    return t.idp.identity.changeRequests.confirm({ accountId: da2.id }, id!, claimed.version);
  }

  it('filters the accounts by status, function and lock, keeps the quota line and links each row to its page', async () => {
    const sftp = await t.createAccount({ userId: 'as.f-sftp', functions: ['EU_ECPSFTP'] });
    const suspended = await t.createAccount({ userId: 'as.f-susp', functions: ['EU_UserMaintenance'] });
    await t.idp.identity.stores.accounts.setStatus(suspended.id, 'suspended', new Date());
    const locked = await t.createAccount({ userId: 'as.f-lock', functions: ['EU_UserMaintenance'] });
    await lock(locked);
    const count = await t.idp.identity.accounts.countInOrganization(organizationId);
    const all = await get('/accounts');
    expect(all.text).toContain(`${count} of 20 accounts`);
    expect(all.text).toContain(`href="/accounts/${sftp.id}"`);
    const byFunction = await get('/accounts?function=EU_ECPSFTP');
    expect(byFunction.text).toContain('as.f-sftp');
    expect(byFunction.text).not.toContain('as.f-susp');
    expect(byFunction.text).toMatch(/<option value="EU_ECPSFTP" selected>/);
    const byStatus = await get('/accounts?status=suspended');
    expect(byStatus.text).toContain('as.f-susp');
    expect(byStatus.text).not.toContain('as.f-sftp');
    const byLock = await get('/accounts?locked=locked');
    expect(byLock.text).toContain('as.f-lock');
    expect(byLock.text).toContain('active · locked');
    expect(byLock.text).not.toContain('as.f-sftp');
    const unlocked = await get('/accounts?locked=unlocked&text=as.f-');
    expect(unlocked.text).toContain('as.f-sftp');
    expect(unlocked.text).not.toContain('as.f-lock');
    const combined = await get('/accounts?status=active&function=EU_UserMaintenance&locked=locked');
    expect(combined.text).toContain('as.f-lock');
    expect(combined.text).not.toContain('as.f-susp');
    const junk = await get('/accounts?status=nonsense&function=%3Cx%3E&locked=maybe');
    expect(junk.status).toBe(200);
    expect(junk.text).toContain('as.f-sftp');
  });

  it("shows an account's membership, status, second factor, lockout and last sign-in in the deployment's time zone", async () => {
    const user = await t.createAccount({ userId: 'as.facts', functions: ['EU_ECPSFTP', 'EU_ECPReportDownload'] });
    await registerApp(t, user.id, systemClock);
    await t.idp.identity.events.publish({ type: 'account.signed_in', accountId: user.id, data: { amr: ['pwd', 'otp'] } }, new Date('2025-03-04T02:05:00Z'));
    await lock(user);
    const page = await get(`/accounts/${user.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Test as.facts');
    expect(page.text).toContain('as.facts@example.com');
    expect(page.text).toMatch(/<dt>Status<\/dt><dd><strong>active · locked<\/strong>/);
    expect(page.text).toMatch(/<dt>Delegated administrator<\/dt><dd>No</);
    expect(page.text).toContain('EU_ECPSFTP (');
    expect(page.text).toContain('EU_ECPReportDownload (');
    expect(page.text).toMatch(/Authenticator app since \d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT)/);
    expect(page.text).toMatch(/Locked since \d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT) after 5 failed attempts/);
    expect(page.text).toMatch(/<dt>Last sign-in<\/dt><dd>04-Mar-2025 10:05 (GMT\+8|HKT)</);
    const plain = await get(`/accounts/${da2.id}`);
    expect(plain.text).toMatch(/<dt>Second factor<\/dt><dd>Email code</);
    expect(plain.text).toMatch(/<dt>Last sign-in<\/dt><dd>Never</);
    expect(plain.text).toMatch(/<dt>Delegated administrator<\/dt><dd>Yes</);
  });

  it('offers only the changes that make sense for the account, and refuses the others with 409', async () => {
    const user = await t.createAccount({ userId: 'as.offers' });
    const page = await get(`/accounts/${user.id}`);
    for (const slug of ['functions', 'suspend', 'close', 'appoint-delegated-administrator']) expect(page.text).toContain(`action="/accounts/${user.id}/${slug}"`);
    for (const slug of ['reactivate', 'unlock', 'reset-second-factor', 'remove-delegated-administrator']) expect(page.text).not.toContain(`action="/accounts/${user.id}/${slug}"`);
    expect(page.text).toContain('Any message to the next step user?');
    const before = await myRequests();
    for (const slug of ['reactivate', 'unlock', 'reset-second-factor', 'remove-delegated-administrator']) {
      const res = await post(`/accounts/${user.id}/${slug}`);
      expect(res.status).toBe(409);
      expect(res.text).toContain('does not apply to as.offers now');
    }
    expect(await myRequests()).toBe(before);
    await t.idp.identity.stores.accounts.setStatus(user.id, 'closed', new Date());
    const closed = await get(`/accounts/${user.id}`);
    expect(closed.text).toContain('The account is closed: nothing can be changed.');
    expect(closed.text).not.toContain(`action="/accounts/${user.id}/`);
  });

  it("answers 404 for another organization's account, an unknown id and an unknown change, and creates nothing", async () => {
    const other = await t.newOrganization();
    const foreign = await t.createAccount({ userId: 'as.foreign', organization: other });
    const before = await myRequests();
    expect((await get(`/accounts/${foreign.id}`)).status).toBe(404);
    expect((await get('/accounts/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await get('/accounts/not-a-uuid')).status).toBe(404);
    const slugs = ['functions', 'suspend', 'reactivate', 'unlock', 'reset-second-factor', 'close', 'appoint-delegated-administrator', 'remove-delegated-administrator'];
    for (const slug of slugs) {
      const res = await post(`/accounts/${foreign.id}/${slug}`, { functions: 'EU_ECPSFTP', message: 'x' });
      expect(res.status, slug).toBe(404);
    }
    expect((await post(`/accounts/${da2.id}/promote`)).status).toBe(404);
    expect(await myRequests()).toBe(before);
    expect((await t.idp.identity.accounts.findAccount(foreign.id))!.account.status).toBe('active');
  });

  it('saves each change as a submitted request of its type that a second DA confirms, and the change is applied', async () => {
    const functions = await t.createAccount({ userId: 'as.c-func', functions: ['EU_UserMaintenance'] });
    const res = await post(`/accounts/${functions.id}/functions`, { functions: ['EU_ECPSFTP', 'EU_ECPReportDownload'], message: 'Moving to ECP.' });
    expect(res.status).toBe(303);
    const done = await checkAndConfirm(res.headers.location!);
    expect(done.type).toBe('change_functions');
    expect(done.status).toBe('completed');
    expect(done.steps.find((s) => s.status === 'ready_for_checker')?.message).toBe('Moving to ECP.');
    expect((await membership(functions.id)).functions.sort()).toEqual(['EU_ECPReportDownload', 'EU_ECPSFTP']);

    const target = await t.createAccount({ userId: 'as.c-life' });
    const status = async () => (await t.idp.identity.accounts.findAccount(target.id))!.account.status;
    const suspend = await checkAndConfirm((await post(`/accounts/${target.id}/suspend`)).headers.location!);
    expect([suspend.type, await status()]).toEqual(['suspend_account', 'suspended']);
    const reactivate = await checkAndConfirm((await post(`/accounts/${target.id}/reactivate`)).headers.location!);
    expect([reactivate.type, await status()]).toEqual(['reactivate_account', 'active']);

    await lock(target);
    const unlock = await checkAndConfirm((await post(`/accounts/${target.id}/unlock`)).headers.location!);
    expect(unlock.type).toBe('unlock_account');
    expect((await t.idp.identity.stores.lockouts.find(target.id))?.lockedAt ?? null).toBeNull();

    await registerApp(t, target.id, systemClock);
    const reset = await checkAndConfirm((await post(`/accounts/${target.id}/reset-second-factor`)).headers.location!);
    expect(reset.type).toBe('reset_second_factor');
    expect(await t.idp.identity.stores.authenticators.findConfirmed(target.id)).toBeNull();

    const appoint = await checkAndConfirm((await post(`/accounts/${target.id}/appoint-delegated-administrator`)).headers.location!);
    expect([appoint.type, appoint.status]).toEqual(['appoint_delegated_administrator', 'sent_to_operator']);
    await t.idp.identity.changeRequests.completeByOperator('operator:test', appoint.id);
    expect((await membership(target.id)).delegatedAdministrator).toBe(true);
    const remove = await checkAndConfirm((await post(`/accounts/${target.id}/remove-delegated-administrator`)).headers.location!);
    expect(remove.type).toBe('remove_delegated_administrator');
    await t.idp.identity.changeRequests.completeByOperator('operator:test', remove.id);
    expect((await membership(target.id)).delegatedAdministrator).toBe(false);

    const close = await checkAndConfirm((await post(`/accounts/${target.id}/close`)).headers.location!);
    expect([close.type, await status()]).toEqual(['close_account', 'closed']);
    expect(close.payload).toEqual({ accountId: target.id });
  });

  it('shows field errors for a change that is not valid, keeps what was entered, and creates no request', async () => {
    const user = await t.createAccount({ userId: 'as.invalid' });
    const before = await myRequests();
    const unknown = await post(`/accounts/${user.id}/functions`, { functions: ['EU_ECPSFTP', 'EU_Everything'], message: 'keep me', accountId: da1.id });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('Unknown function &#34;EU_Everything&#34;');
    expect(unknown.text).toContain('>keep me</textarea>');
    const tooLong = await post(`/accounts/${user.id}/suspend`, { message: 'x'.repeat(4001) });
    expect(tooLong.status).toBe(400);
    expect(await myRequests()).toBe(before);
    expect((await t.idp.identity.accounts.findAccount(user.id))!.account.status).toBe('active');
  });

  it('refuses a change form without the right CSRF token with 403 and creates nothing', async () => {
    const user = await t.createAccount({ userId: 'as.csrf' });
    const before = await myRequests();
    const cookie = await c.cookieFor(da1, 'right-token');
    const without = await request(c.app).post(`/accounts/${user.id}/suspend`).set('Cookie', cookie).type('form').send({});
    const wrong = await request(c.app).post(`/accounts/${user.id}/close`).set('Cookie', cookie).type('form').send({ _csrf: 'wrong-token' });
    expect([without.status, wrong.status]).toEqual([403, 403]);
    expect(await myRequests()).toBe(before);
    expect((await get(`/accounts/${user.id}`)).text).toContain('name="_csrf" value="test-csrf-token"');
  });

  it('lets the maker edit their own draft, refuses a stale version, and answers 404 to anyone else', async () => {
    const user = await t.createAccount({ userId: 'as.draft', functions: ['EU_UserMaintenance'] });
    const draft = await t.idp.identity.changeRequests.createDraft({ accountId: da1.id }, { organizationId, type: 'change_functions', payload: { accountId: user.id, functions: ['EU_UserMaintenance'] } });
    expect((await get(`/requests/${draft.id}`)).text).toContain(`href="/requests/${draft.id}/edit"`);
    const form = await get(`/requests/${draft.id}/edit`);
    expect(form.status).toBe(200);
    expect(form.text).toMatch(/value="EU_UserMaintenance" checked/);
    expect((await get(`/requests/${draft.id}/edit`, da2)).status).toBe(404);
    expect((await post(`/requests/${draft.id}/edit`, { functions: 'EU_ECPSFTP', version: '1' }, da2)).status).toBe(404);
    const saved = await post(`/requests/${draft.id}/edit`, { functions: ['EU_ECPSFTP'], version: '1', message: 'SFTP only.', accountId: da2.id });
    expect(saved.status).toBe(303);
    const updated = await t.idp.identity.changeRequests.getRequest({ accountId: da1.id }, draft.id);
    expect([updated.version, updated.payload]).toEqual([2, { accountId: user.id, functions: ['EU_ECPSFTP'] }]);
    const stale = await post(`/requests/${draft.id}/edit`, { functions: ['EU_ECPAdmin'], version: '1' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('changed since you reviewed it');
    expect((await t.idp.identity.changeRequests.getRequest({ accountId: da1.id }, draft.id)).payload).toEqual({ accountId: user.id, functions: ['EU_ECPSFTP'] });
    const nocsrf = await request(c.app).post(`/requests/${draft.id}/edit`).set('Cookie', await c.cookieFor(da1, 'tok')).type('form').send({ functions: 'EU_ECPAdmin', version: '2' });
    expect(nocsrf.status).toBe(403);
    expect((await t.idp.identity.changeRequests.getRequest({ accountId: da1.id }, draft.id)).version).toBe(2);
  });

  it('edits a new account draft with field errors for what is not valid', async () => {
    const payload = { userId: 'as.newbie', name: 'New Bie', email: 'as.newbie@example.com', phone: '+852 5555 0123', functions: [] };
    const draft = await t.idp.identity.changeRequests.createDraft({ accountId: da1.id }, { organizationId, type: 'create_account', payload });
    const form = await get(`/requests/${draft.id}/edit`);
    expect(form.text).toContain('value="as.newbie@example.com"');
    expect(form.text).toContain(`action="/requests/${draft.id}/edit"`);
    const bad = await post(`/requests/${draft.id}/edit`, { ...payload, email: 'nope', version: '1' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Enter a valid email address.');
    expect(bad.text).toContain('value="nope"');
    const good = await post(`/requests/${draft.id}/edit`, { ...payload, name: 'Newton Bie', version: '1', delegatedAdministrator: 'true' });
    expect(good.status).toBe(303);
    const updated = await t.idp.identity.changeRequests.getRequest({ accountId: da1.id }, draft.id);
    expect(updated.payload).toEqual({ ...payload, name: 'Newton Bie' });
    expect(updated.title).toContain('Newton Bie');
  });

  it('fits the accounts list and the account page on a 390-px phone without sideways scrolling', async () => {
    const user = await t.createAccount({ userId: 'as.phone-with-a-rather-long-user-id', functions: ['EU_ECPSFTP', 'EU_ECPReportDownload', 'EU_ParticipantshipManagement'] });
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      const [name, value] = (await c.cookieFor(da1)).split(/=(.*)/s) as [string, string];
      await context.addCookies([{ name, value, url: c.url }]);
      const page = await context.newPage();
      for (const [path, shot] of [['/accounts', 'accounts-phone.png'], [`/accounts/${user.id}`, 'account-phone.png']] as const) {
        await page.goto(`${c.url}${path}`);
        await page.screenshot({ path: await artifactPath(shot), fullPage: true });
        expect(await page.locator('h1').count()).toBe(1);
        const wide = await page.evaluate("[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > 391).map((e) => e.tagName + '.' + e.className).slice(0, 5)");
        expect(wide).toEqual([]);
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      }
      await page.getByText('Change functions', { exact: true }).click();
      await page.getByLabel('Any message to the next step user? (optional)').first().fill('From my phone.');
      await page.getByRole('button', { name: 'Request the new functions' }).click();
      await page.waitForURL(/\/requests\/[0-9a-f-]+\?done=submitted$/);
      expect(await page.locator('h1').textContent()).toContain('Change functions of as.phone-with-a-rather-long-user-id');
    } finally {
      await browser.close();
    }
  });

  it('renders a stored XSS payload in a name escaped on the list and the detail page', async () => {
    const payload = '<script>alert(1)</script>';
    const { account } = await t.idp.identity.accounts.createAccount({ organization: organizationId, userId: 'as.xss', name: payload, email: 'as.xss@example.com', phone: '+852 5555 0100', functions: [] }, 'test');
    for (const path of ['/accounts?text=as.xss', `/accounts/${account.id}`]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(payload);
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });
});
