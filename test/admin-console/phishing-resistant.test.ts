import { randomBytes, randomUUID } from 'node:crypto';
import * as cheerio from 'cheerio';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, passwordStep, registerApp } from '../support/authenticator.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { otpFrom } from '../support/smtp-capture.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

type Who = { id: string; userId: string };
const DAY = 86_400;

/**
 * Issue 13 §4 and §5 in the console: the operator's passkey requirement for delegated administrators (for every
 * organization and per organization, audited), what it asks of an account at sign-in as time passes, the account
 * page's factors, and a second-factor reset through maker-checker that removes passkeys too.
 */
describe('passkey requirement and sign-in factors in the admin console (HTTP)', () => {
  const clock = new ManualClock();
  let t: TestIdp;
  let c: TestConsole;
  let operator: Who;
  let da1: Who;
  let da2: Who;
  let organizationId: string;
  let otherOrganization: string;

  beforeAll(async () => {
    t = await startTestIdp({}, { clock });
    c = await startTestConsole(t, { timeZone: 'Asia/Hong_Kong' });
    organizationId = await t.organization();
    otherOrganization = await t.newOrganization();
    da1 = await t.createAccount({ userId: 'phr.da1', delegatedAdministrator: true });
    da2 = await t.createAccount({ userId: 'phr.da2', delegatedAdministrator: true });
    operator = await t.createAccount({ userId: 'phr.operator', functions: [] });
    await t.idp.identity.accounts.setOperator(operator.id, true, 'test');
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const get = async (who: Who, path: string) => request(c.app).get(path).set('Cookie', await c.cookieFor(who, 'tok'));
  const post = async (who: Who, path: string, form: Record<string, string> = {}) => request(c.app).post(path).set('Cookie', await c.cookieFor(who, 'tok')).type('form').send({ _csrf: 'tok', ...form });
  const text = (html: string) => cheerio.load(html)('main').text().replace(/\s+/g, ' ');
  const phr = () => t.idp.identity.phishingResistant;
  const ruleEvents = async () => t.idp.identity.stores.audit.list({ type: 'phishing_resistant_rule.changed' });
  /** A passkey stored as registration stores one (the ceremony itself is test/passkeys' subject). */
  const addPasskey = async (accountId: string, name: string, lastUsedAt: Date | null = null) => {
    await t.idp.identity.stores.passkeys.add({
      id: randomUUID(), accountId, credentialId: randomBytes(16).toString('base64url'), publicKey: new Uint8Array(randomBytes(77)), counter: 0, transports: ['internal'],
      aaguid: null, deviceType: 'multiDevice', backedUp: true, name, createdAt: clock.now(), lastUsedAt, removedAt: null,
    });
  };

  it('lets the operator require a passkey for every organization, shows it, audits it, and refuses bad input and non-operators', async () => {
    const before = await get(operator, '/operator/organizations');
    expect(before.status).toBe(200);
    expect(text(before.text)).toContain('Not required: delegated administrators sign in with any second factor.');
    expect(text(before.text)).toContain('The default (policies/phishing-resistant.ts)');

    for (const [form, field] of [[{ requirement: 'required', gracePeriodDays: '-1' }, 'gracePeriodDays'], [{ requirement: 'required', gracePeriodDays: 'soon' }, 'gracePeriodDays'], [{ requirement: 'required', gracePeriodDays: '366' }, 'gracePeriodDays'], [{ requirement: 'every_organization', gracePeriodDays: '14' }, 'requirement'], [{ requirement: 'always', gracePeriodDays: '14' }, 'requirement']] as const) {
      const refused = await post(operator, '/operator/phishing-resistant', form);
      expect(refused.status, JSON.stringify(form)).toBe(400);
      expect(cheerio.load(refused.text)(`[aria-invalid="true"]#${field}, fieldset[aria-describedby="${field}-error"]`).length, JSON.stringify(form)).toBe(1);
    }
    expect(await ruleEvents()).toHaveLength(0);
    const sneaky = await post(da1, '/operator/phishing-resistant', { requirement: 'required', gracePeriodDays: '0' });
    expect(sneaky.status).toBe(404);
    expect((await phr().ruleFor(null)).source).toBe('default');

    const saved = await post(operator, '/operator/phishing-resistant', { requirement: 'required', gracePeriodDays: '14' });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe('/operator/organizations?done=rule#passkey-rule');
    const after = text((await get(operator, '/operator/organizations?done=rule')).text);
    expect(after).toContain('Passkey requirement saved.');
    expect(after).toMatch(/Required since \d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT): delegated administrators without a passkey are asked to register one at sign-in, and may skip until \d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT) \(14 days of grace\)/);
    expect(after).toContain(`Set by operator:${operator.id}`);
    const [event] = await ruleEvents();
    expect(event).toMatchObject({ actor: `operator:${operator.id}`, organizationId: null, data: { scope: 'every_organization', requirement: 'required', required: true, gracePeriodSeconds: 14 * DAY, before: { required: false, source: 'default' } } });
    const audit = text((await get(operator, '/operator/audit?type=phishing_resistant_rule.changed')).text);
    expect(audit).toContain('phishing_resistant_rule.changed');
  });

  it('asks a delegated administrator without a passkey at sign-in until the grace period ends, then requires it; a passkey meets it', async () => {
    const user = await t.createAccount({ userId: 'phr.user' });
    const start = (await phr().ruleFor(null)).rule.effectiveFrom!;
    const asked = await phr().requirementFor(da1.id);
    expect(asked).toMatchObject({ required: true, organizationIds: [organizationId], askToRegister: true, mustRegisterNow: false, deadline: new Date(start.getTime() + 14 * DAY * 1000) });
    expect((await phr().requirementFor(user.id)).required).toBe(false);

    // Changing only the grace period keeps its start; the deadline moves with it.
    await phr().setRule(null, { requirement: 'required', gracePeriodSeconds: 2 * DAY }, 'operator:test');
    expect((await phr().requirementFor(da1.id)).deadline).toEqual(new Date(start.getTime() + 2 * DAY * 1000));
    clock.advance(2 * DAY);
    expect(await phr().requirementFor(da1.id)).toMatchObject({ askToRegister: true, mustRegisterNow: true });
    await addPasskey(da2.id, 'Laptop');
    expect(await phr().requirementFor(da2.id)).toMatchObject({ required: true, askToRegister: false, mustRegisterNow: false, signInWithPasskey: true, passkeys: 1 });
    const page = text((await get(da1, `/accounts/${da1.id}`)).text);
    expect(page).toMatch(/Required for this delegated administrator: the grace period ended \d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT); the next sign-in goes on only after registering a passkey\./);
  });

  it("lets an organization's own rule override the rule for every organization, on the organization's page, and back", async () => {
    const path = `/operator/organizations/${organizationId}`;
    expect(text((await get(operator, path)).text)).toContain('The rule for every organization, set by operator:test');
    expect((await post(operator, `/operator/organizations/${otherOrganization}/phishing-resistant`, { requirement: 'not_required', gracePeriodDays: 'x' })).status).toBe(400);
    expect((await post(operator, `/operator/organizations/${randomUUID()}/phishing-resistant`, { requirement: 'not_required', gracePeriodDays: '1' })).status).toBe(404);
    expect((await post(da1, `${path}/phishing-resistant`, { requirement: 'not_required', gracePeriodDays: '1' })).status).toBe(404);

    clock.advance(1);
    const lifted = await post(operator, `${path}/phishing-resistant`, { requirement: 'not_required', gracePeriodDays: '7' });
    expect([lifted.status, lifted.headers.location]).toEqual([303, `${path}?done=rule`]);
    const page = cheerio.load((await get(operator, `${path}?done=rule`)).text);
    expect(page('main').text()).toContain('Not required: delegated administrators sign in with any second factor.');
    expect(page('main').text()).toContain('Set for this organization by operator:');
    expect(page('input[name="requirement"][value="not_required"]').attr('checked')).toBeDefined();
    expect((await phr().requirementFor(da1.id)).required).toBe(false);
    const list = text((await get(operator, '/operator/organizations')).text);
    expect(list).toContain('Not required (this organization)');

    // Required in this organization only, from now: a new grace period of 1 day.
    clock.advance(1);
    await post(operator, `${path}/phishing-resistant`, { requirement: 'required', gracePeriodDays: '1' });
    expect(await phr().requirementFor(da1.id)).toMatchObject({ required: true, mustRegisterNow: false, deadline: new Date(clock.now().getTime() + DAY * 1000) });
    clock.advance(1);
    const back = await post(operator, `${path}/phishing-resistant`, { requirement: 'every_organization', gracePeriodDays: '1' });
    expect(back.status).toBe(303);
    expect((await phr().ruleFor(organizationId)).source).toBe('every_organization');
    const events = await ruleEvents();
    expect(events.filter((e) => e.organizationId === organizationId).map((e) => e.data.requirement)).toEqual(['every_organization', 'required', 'not_required']);
    // The organization page lists which delegated administrators have a passkey.
    const members = cheerio.load((await get(operator, path)).text);
    const row = (userId: string) => members('tr').filter((_i, tr) => members(tr).text().includes(userId)).find('td[data-label="Passkeys"]').text();
    expect([row('phr.da1'), row('phr.da2'), row('phr.user')]).toEqual(['None', '1', '—']);
  });

  it('shows each factor type of the account, with its passkeys (names escaped, last use) on the account page', async () => {
    const user = await t.createAccount({ userId: 'phr.factors' });
    const plain = cheerio.load((await get(da1, `/accounts/${user.id}`)).text);
    const factor = (page: cheerio.CheerioAPI, name: string) => page('#factors').parent().find('dt').filter((_i, dt) => page(dt).text() === name).next('dd').text();
    expect([factor(plain, 'Password'), factor(plain, 'Authenticator app'), factor(plain, 'Emailed code'), factor(plain, 'Passkeys')]).toEqual(['Set', 'None', 'Sent at every sign-in (no authenticator app)', 'None']);
    expect(plain(`form[action="/accounts/${user.id}/reset-second-factor"]`).length).toBe(0);

    await registerApp(t, user.id, clock);
    await addPasskey(user.id, '<b>Phone</b>', new Date('2026-03-04T02:05:00Z'));
    clock.advance(1);
    await addPasskey(user.id, 'YubiKey');
    const res = await get(da1, `/accounts/${user.id}`);
    expect(res.text).not.toContain('<b>Phone</b>');
    expect(res.text).toContain('&lt;b&gt;Phone&lt;/b&gt;');
    const page = cheerio.load(res.text);
    expect(factor(page, 'Authenticator app')).toMatch(/^Registered \d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT) \(the account's default\)$/);
    expect(factor(page, 'Emailed code')).toBe('Available instead of the app');
    expect(factor(page, 'Passkeys')).toBe('2 passkeys');
    const rows = page('#passkeys').closest('table').find('tbody tr').map((_i, tr) => page(tr).find('td').map((_j, td) => page(td).text()).get().join(' | ')).get();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^<b>Phone<\/b> \| \d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT) \| 04-Mar-2026 10:05 (GMT\+8|HKT) \| synced$/);
    expect(rows[1]).toMatch(/^YubiKey \| .+ \| Never used \| synced$/);
    expect(page(`form[action="/accounts/${user.id}/reset-second-factor"]`).text()).toContain('every passkey');
  });

  it('resets the second factor through maker-checker: the app and every passkey go, the holder is emailed, the rule asks again', async () => {
    const target = await t.createAccount({ userId: 'phr.reset' });
    await registerApp(t, target.id, clock);
    await addPasskey(target.id, 'Only passkey');
    clock.advance(1);
    await addPasskey(target.id, 'Second passkey');
    const submitted = await post(da1, `/accounts/${target.id}/reset-second-factor`, { message: 'Lost phone.' });
    expect(submitted.status).toBe(303);
    const id = /^\/requests\/([0-9a-f-]+)\?done=submitted$/.exec(submitted.headers.location!)![1]!;
    expect(await t.idp.identity.passkeys.list(target.id)).toHaveLength(2);
    const since = t.smtp.messages.length;
    const claimed = await t.idp.identity.changeRequests.claim({ accountId: da2.id }, id);
    const done = await t.idp.identity.changeRequests.confirm({ accountId: da2.id }, id, claimed.version);
    expect([done.type, done.status]).toEqual(['reset_second_factor', 'completed']);
    expect(await t.idp.identity.passkeys.list(target.id)).toEqual([]);
    expect(await t.idp.identity.stores.authenticators.findConfirmed(target.id)).toBeNull();
    const [reset] = await t.idp.identity.stores.audit.list({ accountId: target.id, type: 'authenticator.reset' });
    expect(reset).toMatchObject({ actor: da2.id, data: { reference: done.reference, removed: true, passkeysRemoved: 2, passkeyNames: ['Only passkey', 'Second passkey'] } });
    const mail = await t.smtp.waitFor(target.email, { since, predicate: (m) => /second factor was reset/.test(m.subject) });
    expect(mail.text).toContain('passkeys');
    const audit = text((await get(da1, `/audit?type=authenticator.reset`)).text);
    expect(audit).toContain('passkeysRemoved: 2');

    // da2 had a passkey and loses it by the same reset: the rule for every organization asks again, past its deadline.
    const draft = await post(da1, `/accounts/${da2.id}/reset-second-factor`);
    const second = /^\/requests\/([0-9a-f-]+)\?done=submitted$/.exec(draft.headers.location!)![1]!;
    const other = await t.createAccount({ userId: 'phr.da3', delegatedAdministrator: true });
    const claimedBy3 = await t.idp.identity.changeRequests.claim({ accountId: other.id }, second);
    expect((await t.idp.identity.changeRequests.confirm({ accountId: other.id }, second, claimedBy3.version)).status).toBe('completed');
    expect(await phr().requirementFor(da2.id)).toMatchObject({ required: true, passkeys: 0, askToRegister: true, mustRegisterNow: true });
  });

  it('names the factor of sign-in events in the audit log, from data.factor or from the amr', async () => {
    const user = await t.createAccount({ userId: 'phr.audit' });
    const publish = async (type: 'account.signed_in' | 'account.sign_in_failed', data: Record<string, unknown>) => {
      clock.advance(1);
      await t.idp.identity.events.publish({ type, accountId: user.id, organizationId, data }, clock.now());
    };
    await publish('account.signed_in', { amr: ['pwd', 'hwk', 'user', 'mfa'] });
    await publish('account.signed_in', { amr: ['pwd', 'otp', 'swk', 'mfa'] });
    await publish('account.signed_in', { amr: ['pwd', 'otp', 'mfa'] });
    await publish('account.signed_in', { amr: ['pwd', 'swk', 'user', 'mfa'], factor: 'passkey' });
    await publish('account.sign_in_failed', { reason: 'wrong_otp', factor: 'totp' });
    const page = cheerio.load((await get(da1, `/audit?account=${user.userId}`)).text);
    // Newest first; PostgreSQL's jsonb keeps keys shortest first.
    const details = page('td[data-label="Details"]').map((_i, td) => page(td).text()).get().slice(0, 5);
    expect(details).toEqual([
      'factor: authenticator app (totp); reason: wrong_otp',
      'amr: ["pwd","swk","user","mfa"]; factor: passkey (passkey)',
      'factor: emailed code (otp); amr: ["pwd","otp","mfa"]',
      'factor: authenticator app (totp); amr: ["pwd","otp","swk","mfa"]',
      'factor: passkey (passkey); amr: ["pwd","hwk","user","mfa"]',
    ]);
  });

  it('records the emailed code as the factor of a real sign-in, and the audit log names it', async () => {
    const redirect = 'http://localhost:7413/cb';
    const { rp } = await t.registerClient({ clientId: 'phr-audit-rp', redirectUri: redirect });
    const user = await t.createAccount({ userId: 'phr.signin' });
    const since = t.smtp.messages.length;
    const at = await passwordStep(rp, redirect, user.userId, user.password);
    const code = otpFrom(await t.smtp.waitFor(user.email, { since, predicate: (m) => /sign-in code/.test(m.subject) }));
    const done = await at.ua.submit(at.page, { 'One-time code': code }, { stopAt: (next) => next.startsWith(redirect) });
    expect(done.redirectedTo).toContain('code=');
    const [signedIn] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.signed_in' });
    expect(signedIn?.data).toMatchObject({ factor: 'otp', amr: ['pwd', 'otp', 'mfa'] });
    const page = cheerio.load((await get(da1, `/audit?type=account.signed_in&account=${user.userId}`)).text);
    expect(page('td[data-label="Details"]').first().text()).toMatch(/^amr: \["pwd","otp","mfa"\]; factor: emailed code \(otp\)/);
  });
});
