import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser, formWith, formWithButton, latestCode, locationOf, PASSWORD, startIdp, textOf, type IdpFixture } from './fixture.js';
import { openSignIn, submitForm } from './flow.js';

const REDIRECT = 'http://localhost:7301/cb';

describe('the emailed one-time code step', () => {
  let f: IdpFixture;
  let organizationId: string;
  beforeAll(async () => {
    f = await startIdp({ OTP_RESEND_INTERVAL_SECONDS: '60' });
    await f.client({ clientId: 'otp-client', redirectUri: REDIRECT });
    organizationId = await f.organization('Otp Org', ['B07301']);
  });
  afterAll(() => f?.close());

  async function passwordPassed(userId: string) {
    const b = browser(f);
    const { page } = await openSignIn(b, 'otp-client', REDIRECT);
    const res = await submitForm(b, page.text, 'User ID or email', { login: userId, password: PASSWORD });
    expect(res.status).toBe(303);
    const codePage = await b.get(locationOf(res));
    return { b, codePage };
  }

  it('shows the code page with the masked address, a labelled numeric field and a resend button', async () => {
    const user = await f.account('otp.page', organizationId);
    const { codePage } = await passwordPassed(user.userId);
    expect(codePage.status).toBe(200);
    expect(codePage.headers['cache-control']).toBe('no-store');
    expect(textOf(codePage.text)).toContain('o***@example.com');
    const form = formWith(codePage.text, 'One-time code');
    expect(form.name).toBe('code');
    expect(codePage.text).toMatch(/inputmode="numeric"/);
    expect(codePage.text).toMatch(/autocomplete="one-time-code"/);
    expect(codePage.text).toMatch(/<button[^>]*>Verify<\/button>/);
    expect(codePage.text).toMatch(/<button[^>]*>Resend code<\/button>/);
    expect(f.mails.filter((m) => m.to === user.email)).toHaveLength(1);
  });

  it('refuses a code before the password step passed in this sign-in', async () => {
    const user = await f.account('otp.skip', organizationId);
    await passwordPassed(user.userId); // a code exists, but for another sign-in
    const b = browser(f);
    const { page } = await openSignIn(b, 'otp-client', REDIRECT);
    const csrf = formWith(page.text, 'User ID or email');
    const res = await b.post(csrf.action.replace('/password', '/email-otp')).type('form').send({ _csrf: csrf.fields._csrf, code: latestCode(f, user.email) });
    expect(res.status).toBe(403);
    expect(textOf(res.text)).toContain('Sign in with your user ID or email and password first.');
    expect(formWith(res.text, 'User ID or email').name).toBe('login');
  });

  it('keeps the person on the code page with a message after a wrong code, then accepts the right one', async () => {
    const user = await f.account('otp.wrong', organizationId);
    const { b, codePage } = await passwordPassed(user.userId);
    const code = latestCode(f, user.email);
    const wrong = await submitForm(b, codePage.text, 'One-time code', { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(401);
    expect(textOf(wrong.text)).toContain('The code is incorrect.');
    const right = await submitForm(b, wrong.text, 'One-time code', { code });
    expect(right.status).toBe(303);
    expect(right.headers.location).toMatch(/\/auth\//);
  });

  it('shows the throttle message when a new code is asked for too soon', async () => {
    const user = await f.account('otp.resend', organizationId);
    const { b, codePage } = await passwordPassed(user.userId);
    const resend = formWithButton(codePage.text, 'Resend code');
    const res = await b.post(resend.action).type('form').send(resend.fields);
    expect(res.status).toBe(429);
    expect(textOf(res.text)).toMatch(/You can ask for another in \d+ seconds/);
    expect(f.mails.filter((m) => m.to === user.email)).toHaveLength(1);
  });

  it('tells the right password on a locked account that it is locked and how to get unlocked', async () => {
    const user = await f.account('otp.locked', organizationId);
    // Locked an hour ago by five failures; the attempt window has ended, the lock has not.
    const { lockouts } = f.identity.stores;
    const anHourAgo = new Date(Date.now() - 3600_000);
    for (let i = 0; i < 5; i++) await lockouts.reserveAttempt(user.id, f.config.lockout, anHourAgo);
    expect(await lockouts.lockIfExhausted(user.id, f.config.lockout, anHourAgo)).toBe(true);
    const b = browser(f);
    const { page } = await openSignIn(b, 'otp-client', REDIRECT);
    const res = await submitForm(b, page.text, 'User ID or email', { login: user.userId, password: PASSWORD });
    expect(res.status).toBe(403);
    const text = textOf(res.text);
    expect(text).toContain('Your account is locked');
    expect(text).toContain("ask your organization's delegated administrator");
    expect(text).toContain('reset your password');
    expect(f.mails.filter((m) => m.to === user.email)).toHaveLength(0);
  });

  it('locks the account after five wrong codes and then shows how to get unlocked', async () => {
    const user = await f.account('otp.five', organizationId);
    const { b, codePage } = await passwordPassed(user.userId);
    let page = codePage;
    for (let i = 1; i <= 5; i++) {
      const res = await submitForm(b, page.text, 'One-time code', { code: `00000${i}` });
      if (i < 5) expect(res.status).toBe(401);
      else expect(textOf(res.text)).toContain('Your account is locked');
      page = res;
    }
    expect((await f.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
  });
});
