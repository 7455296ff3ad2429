import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { ManualClock, oathtool, passwordStep, registerApp, submitAppCode, type AtSecondFactor } from '../support/authenticator.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7412/cb';
const DAY = 86_400;

describe('re-registration campaigns', () => {
  let t: TestIdp;
  let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
  const clock = new ManualClock();
  const t0 = clock.now();
  const at = (days: number) => new Date(t0.getTime() + days * DAY * 1000);
  let campaignId: string;
  const user = { id: '', userId: 'campaign.app', email: '', password: '', secret: '' };

  beforeAll(async () => {
    t = await startTestIdp({}, { clock });
    rp = (await t.registerClient({ clientId: 'campaign-client', redirectUri: REDIRECT })).rp;
    Object.assign(user, await t.createAccount({ userId: user.userId }));
    user.secret = await registerApp(t, user.id, clock);
    const created = await t.idp.identity.campaigns.createCampaign({ registeredBefore: at(1).toISOString(), effectiveFrom: at(2).toISOString(), skipUntil: at(5).toISOString() }, 'test');
    campaignId = created.id;
    expect(created.progress).toEqual({ affected: 1, reRegistered: 0, skipped: 0 });
  });
  afterAll(() => t?.close());

  async function appCodePassed(secret = user.secret): Promise<AtSecondFactor & { next: Awaited<ReturnType<typeof submitAppCode>> }> {
    const started = await passwordStep(rp, REDIRECT, user.userId, user.password);
    return { ...started, next: await submitAppCode(started, oathtool(secret, clock.now())) };
  }

  it('does not prompt before the effective date', async () => {
    clock.set(at(1.5));
    const { next } = await appCodePassed();
    expect(next.redirectedTo).toMatch(/^http:\/\/localhost:7412\/cb\?code=/);
  });

  it('prompts on the effective date after the app code, with "Register device" and "Skip this step"; skipping continues the sign-in', async () => {
    clock.set(at(2));
    const { next, ua, auth } = await appCodePassed();
    expect(next.status).toBe(200);
    expect(next.html).toMatch(/<button[^>]*>Register device<\/button>/);
    expect(next.html).toMatch(/<button[^>]*>Skip this step<\/button>/);
    const skipped = await ua.submit(next, {}, { button: 'Skip this step', stopAt: (u) => u.startsWith(auth.redirectUri) });
    expect(skipped.redirectedTo).toBeDefined();
    const [view] = await t.idp.identity.campaigns.listCampaigns();
    expect(view!.progress).toEqual({ affected: 1, reRegistered: 0, skipped: 1 });
  });

  it('no longer offers "Skip this step" after the deadline and refuses a skip posted anyway', async () => {
    clock.set(at(5.5));
    const { next, ua } = await appCodePassed();
    expect(next.html).toMatch(/<button[^>]*>Register device<\/button>/);
    expect(next.html).not.toContain('Skip this step</button>');
    expect(textOf(next.html)).toContain('The deadline for skipping has passed');
    const $ = cheerio.load(next.html);
    const csrf = $('input[name=_csrf]').first().attr('value')!;
    const skipUrl = new URL($('form').first().attr('action')!.replace('/register', '/register/skip'), next.url).toString();
    const refused = await ua.request(skipUrl, { method: 'POST', body: new URLSearchParams({ _csrf: csrf }) });
    expect(refused.status).toBe(403);
  });

  it('re-registers: the new app works at once, the old secret\'s codes stop working, progress counts it', async () => {
    clock.set(at(6));
    const { next, ua, auth } = await appCodePassed();
    const qrPage = await ua.submit(next, {}, { button: 'Register device' });
    expect(qrPage.html).toContain('data:image/png;base64,');
    const newSecret = cheerio.load(qrPage.html)('#authenticator-secret').attr('data-secret')!;
    expect(newSecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newSecret).not.toBe(user.secret);
    expect(qrPage.html).toContain('otpauth://totp/');
    clock.advance(30);
    const done = await ua.submit(qrPage, { 'Login using verification code': oathtool(newSecret, clock.now()) }, { stopAt: (u) => u.startsWith(auth.redirectUri) });
    expect(done.redirectedTo).toBeDefined();

    clock.advance(60);
    const old = await appCodePassed(user.secret);
    expect(old.next.status).toBe(401);
    const fresh = await appCodePassed(newSecret);
    expect(fresh.next.redirectedTo).toBeDefined(); // and no prompt any more
    const [view] = await t.idp.identity.campaigns.listCampaigns();
    expect(view!.progress).toEqual({ affected: 1, reRegistered: 1, skipped: 0 });
    const events = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'authenticator.registered' });
    expect(events[0]?.data).toMatchObject({ replaced: true, campaignId });
  });

  it('never prompts accounts that sign in with emailed codes', async () => {
    clock.set(at(3));
    const emailUser = await t.createAccount({ userId: 'campaign.email' });
    const started = await passwordStep(rp, REDIRECT, emailUser.userId, emailUser.password);
    const mail = await t.smtp.waitFor(emailUser.email, { since: 0 });
    const done = await started.ua.submit(started.page, { 'One-time code': otpFrom(mail) }, { stopAt: (u) => u.startsWith(REDIRECT) });
    expect(done.redirectedTo).toBeDefined();
  });

  it('closing a campaign stops its prompts', async () => {
    const other = await t.createAccount({ userId: 'campaign.closed' });
    clock.set(at(0.5));
    const secret = await registerApp(t, other.id, clock);
    clock.set(at(3));
    await t.idp.identity.campaigns.closeCampaign(campaignId, 'test');
    const started = await passwordStep(rp, REDIRECT, other.userId, other.password);
    expect((await submitAppCode(started, oathtool(secret, clock.now()))).redirectedTo).toBeDefined();
    await expect(t.idp.identity.campaigns.closeCampaign(campaignId, 'test')).rejects.toMatchObject({ code: 'conflict' });
  });
});
