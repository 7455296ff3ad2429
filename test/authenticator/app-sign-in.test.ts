import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { APP_CODE_LABEL, ManualClock, oathtool, passwordStep, registerApp, submitAppCode } from '../support/authenticator.js';
import { redeem } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7411/cb';

describe('signing in with an authenticator app (RFC 6238)', () => {
  let t: TestIdp;
  let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestIdp({}, { clock });
    rp = (await t.registerClient({ clientId: 'app-sign-in', redirectUri: REDIRECT })).rp;
  });
  afterAll(() => t?.close());

  /** An account with a confirmed app; time moves past the confirming code's step. */
  async function accountWithApp(userId: string) {
    const user = await t.createAccount({ userId });
    const secret = await registerApp(t, user.id, clock);
    clock.advance(60);
    return { ...user, secret };
  }

  it('asks for the app code after the password, sends no email, and accepts a code from oathtool with amr pwd otp swk mfa', async () => {
    const user = await accountWithApp('app.oathtool');
    // Count sign-in codes only: the app registration's own notice is delivered by the outbox at its own pace.
    const codes = () => t.smtp.messages.filter((m) => m.to.includes(user.email) && /sign-in code/.test(m.subject)).length;
    const mailsBefore = codes();
    const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
    expect(textOf(at.page.html)).toContain(APP_CODE_LABEL);
    expect(at.page.html).toMatch(/<button[^>]*>Verify<\/button>/);
    expect(at.page.html).toMatch(/<button[^>]*>Email me a code instead<\/button>/);
    expect(codes()).toBe(mailsBefore);
    const done = await submitAppCode(at, oathtool(user.secret, clock.now()));
    expect(done.redirectedTo).toBeDefined();
    const tokens = await redeem(rp, new URL(done.redirectedTo!), at.auth);
    expect(tokens.claims()?.amr).toEqual(['pwd', 'otp', 'swk', 'mfa']);
  });

  it('accepts the code of the previous and of the next time step, and refuses codes two steps away', async () => {
    const user = await accountWithApp('app.window');
    for (const offset of [-60, 60]) {
      const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
      const refused = await submitAppCode(at, oathtool(user.secret, new Date(clock.now().getTime() + offset * 1000)));
      expect(refused.status).toBe(401);
      expect(textOf(refused.html)).toContain('The code is incorrect or was already used.');
    }
    const previous = await passwordStep(rp, REDIRECT, user.userId, user.password);
    expect((await submitAppCode(previous, oathtool(user.secret, new Date(clock.now().getTime() - 30_000)))).redirectedTo).toBeDefined();
    const next = await passwordStep(rp, REDIRECT, user.userId, user.password);
    expect((await submitAppCode(next, oathtool(user.secret, new Date(clock.now().getTime() + 30_000)))).redirectedTo).toBeDefined();
  });

  it('signs in once with a code submitted twice in a row', async () => {
    const user = await accountWithApp('app.replay');
    const code = oathtool(user.secret, clock.now());
    const first = await passwordStep(rp, REDIRECT, user.userId, user.password);
    const second = await passwordStep(rp, REDIRECT, user.userId, user.password);
    expect((await submitAppCode(first, code)).redirectedTo).toBeDefined();
    const replayed = await submitAppCode(second, code);
    expect(replayed.redirectedTo).toBeUndefined();
    expect(replayed.status).toBe(401);
    const audit = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.sign_in_failed' });
    expect(audit[0]?.data).toMatchObject({ factor: 'totp' });
  });

  it('signs in at most once when the same code is submitted by 10 sign-ins at the same moment', async () => {
    const user = await accountWithApp('app.concurrent');
    // Password steps one after another: concurrent ones would exceed the lockout's attempt budget (by design).
    const signIns = [];
    for (let i = 0; i < 10; i++) signIns.push(await passwordStep(rp, REDIRECT, user.userId, user.password));
    const code = oathtool(user.secret, clock.now());
    const results = await Promise.all(signIns.map((at) => submitAppCode(at, code)));
    expect(results.filter((r) => r.redirectedTo).length).toBe(1);
    expect(results.filter((r) => !r.redirectedTo).every((r) => r.status === 401 || r.status === 403)).toBe(true);
  });

  it('does not accept the code that confirmed the registration for the next sign-in', async () => {
    const user = await t.createAccount({ userId: 'app.confirming' });
    const { account } = (await t.idp.identity.accounts.findAccount(user.id))!;
    const setup = await t.idp.identity.authenticators.beginRegistration(account, 'account_page');
    const confirming = oathtool(setup.secret, clock.now());
    expect(await t.idp.identity.authenticators.completeRegistration(account, confirming)).toEqual({ outcome: 'ok', replaced: false });
    const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
    const refused = await submitAppCode(at, confirming);
    expect(refused.status).toBe(401);
    clock.advance(30);
    const again = await passwordStep(rp, REDIRECT, user.userId, user.password);
    expect((await submitAppCode(again, oathtool(setup.secret, clock.now()))).redirectedTo).toBeDefined();
  });

  it('counts wrong app codes toward the lockout: the fifth failure locks the account', async () => {
    const user = await accountWithApp('app.lockout');
    const good = oathtool(user.secret, clock.now());
    const wrong = good === '000000' ? '111111' : '000000';
    let last;
    for (let i = 0; i < 5; i++) {
      const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
      last = await submitAppCode(at, wrong);
    }
    expect(last!.status).toBe(403);
    expect(textOf(last!.html)).toContain('locked');
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
  });

  it('lets the person choose "Email me a code instead", then signs in with the emailed code (amr without swk)', async () => {
    const user = await accountWithApp('app.fallback');
    const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
    const since = t.smtp.messages.length;
    const codePage = await at.ua.submit(at.page, {}, { button: 'Email me a code instead' });
    expect(textOf(codePage.html)).toContain('One-time code');
    const mail = await t.smtp.waitFor(user.email, { since });
    const done = await at.ua.submit(codePage, { 'One-time code': otpFrom(mail) }, { stopAt: (next) => next.startsWith(REDIRECT) });
    const tokens = await redeem(rp, new URL(done.redirectedTo!), at.auth);
    expect(tokens.claims()?.amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('keeps accounts without an app on the emailed code page', async () => {
    const user = await t.createAccount({ userId: 'app.none' });
    const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
    expect(textOf(at.page.html)).toContain('One-time code');
    expect(textOf(at.page.html)).not.toContain(APP_CODE_LABEL);
  });
});
