import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, oathtool } from '../support/authenticator.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7414/cb';

describe('the account page at the IdP', () => {
  let t: TestIdp;
  let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestIdp({}, { clock });
    rp = (await t.registerClient({ clientId: 'account-page', redirectUri: REDIRECT, initiateLoginUri: 'http://localhost:7414/login' })).rp;
  });
  afterAll(() => t?.close());

  async function signedIn(userId: string) {
    const user = await t.createAccount({ userId });
    const ua = new UserAgent();
    await signInToCallback({ ua, auth: await startAuthorization(rp, REDIRECT), login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    return { ua, user, page: await ua.follow(`${t.issuer}/account`) };
  }
  const mailsTo = (email: string) => t.smtp.messages.filter((m) => m.to.includes(email));

  it('asks a browser without an IdP session to sign in through an application', async () => {
    const page = await new UserAgent().follow(`${t.issuer}/account`);
    expect(page.status).toBe(401);
    expect(page.html).toContain('http://localhost:7414/login');
  });

  it('registers, replaces and removes the app (fresh codes required), chooses the factor, and emails every change', async () => {
    const { ua, user, page } = await signedIn('account.app');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(textOf(page.html)).toContain('Signed in (pwd, otp, mfa)');
    const mails = mailsTo(user.email).length;

    const qr = await ua.submit(page, {}, { button: 'Register device' });
    const secret = cheerio.load(qr.html)('#authenticator-secret').attr('data-secret')!;
    const registered = await ua.submit(qr, { 'Login using verification code': oathtool(secret, clock.now()) });
    expect(textOf(registered.html)).toContain('Your authenticator app is registered.');
    await t.idp.identity.mailDelivery.idle(); // the notice goes through the mail outbox, right after the answer
    expect(mailsTo(user.email).length).toBe(mails + 1);

    const toEmail = await ua.submit(registered, { 'A code sent by email': 'email' }, { button: 'Save default' });
    expect(textOf(toEmail.html)).toContain('Your default sign-in factor was saved.');
    expect(await t.idp.identity.authenticators.signInFactor(user.id)).toBe('email');

    const refused = await ua.submit(toEmail, { 'Current code to remove the app': oathtool(secret, clock.now()) }, { button: 'Remove app' });
    expect(refused.status).toBe(401); // the registration's own code is spent
    clock.advance(30);
    const replacing = await ua.submit(refused, { 'Current code to replace the app': oathtool(secret, clock.now()) }, { button: 'Replace app' });
    const newSecret = cheerio.load(replacing.html)('#authenticator-secret').attr('data-secret')!;
    expect(newSecret).not.toBe(secret);
    clock.advance(30);
    const replaced = await ua.submit(replacing, { 'Login using verification code': oathtool(newSecret, clock.now()) });
    expect(textOf(replaced.html)).toContain('Codes from the previous app no longer work.');
    clock.advance(30);
    const oldCode = await ua.submit(replaced, { 'Current code to remove the app': oathtool(secret, clock.now()) }, { button: 'Remove app' });
    expect(oldCode.status).toBe(401);
    const removed = await ua.submit(oldCode, { 'Current code to remove the app': oathtool(newSecret, clock.now()) }, { button: 'Remove app' });
    expect(textOf(removed.html)).toContain('Your authenticator app was removed.');
    expect(await t.idp.identity.authenticatorApp.hasApp(user.id)).toBe(false);
    await t.idp.identity.mailDelivery.idle();
    expect(mailsTo(user.email).length).toBeGreaterThanOrEqual(mails + 4);
  });

  it('changes the password only with the current one and a new one the password policy accepts', async () => {
    const { ua, user, page } = await signedIn('account.password');
    const wrong = await ua.submit(page, { 'Current password': 'not my password at all', 'New password': 'a brand new long passphrase', 'New password again': 'a brand new long passphrase' });
    expect(wrong.status).toBe(400);
    expect(textOf(wrong.html)).toContain('Your current password is not correct.');
    const weak = await ua.submit(wrong, { 'Current password': user.password, 'New password': 'short', 'New password again': 'short' });
    expect(weak.status).toBe(400);
    const changed = await ua.submit(weak, { 'Current password': user.password, 'New password': 'a brand new long passphrase', 'New password again': 'a brand new long passphrase' });
    expect(textOf(changed.html)).toContain('Your password was changed.');
    expect((await t.idp.identity.passwordSignIn.verifyPassword(user.userId, 'a brand new long passphrase')).outcome).toBe('ok');
    expect(mailsTo(user.email).some((m) => /password was changed/.test(m.subject ?? ''))).toBe(true);
  });

  it('refuses a form without its CSRF token', async () => {
    const { ua } = await signedIn('account.csrf');
    const res = await ua.request(`${t.issuer}/account/factor`, { method: 'POST', body: new URLSearchParams({ factor: 'email' }) });
    expect(res.status).toBe(403);
  });
});
