import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CODE_LABEL, ManualClock, oathtool, registerApp } from '../support/authenticator.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7731/cb';
const MAX_AGE_SECONDS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('recent authentication before the authenticator app changes on /account (REAUTHENTICATION_MAX_AGE_SECONDS)', () => {
  let t: TestIdp;
  let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestIdp({ REAUTHENTICATION_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS) }, { clock });
    rp = (await t.registerClient({ clientId: 'reauth-portal', redirectUri: REDIRECT })).rp;
  });
  afterAll(() => t?.close());

  /**
   * Completes the sign-in pages shown on `page` (password, then the emailed code or the app code) and follows
   * the redirects to wherever the IdP sends the browser (a portal callback stops there).
   */
  async function completeSignIn(ua: UserAgent, page: Page, user: { userId: string; email: string; password: string }, appSecret?: string) {
    const since = t.smtp.messages.length;
    const second = await submitPassword(ua, page, user.userId, user.password);
    expect(second.status).toBe(200);
    if (appSecret) return ua.submit(second, { [APP_CODE_LABEL]: oathtool(appSecret, clock.now()) }, { stopAt: (next) => next.startsWith(REDIRECT) });
    const code = otpFrom(await t.smtp.waitFor(user.email, { since }));
    return ua.submit(second, { 'One-time code': code }, { stopAt: (next) => next.startsWith(REDIRECT) });
  }

  /** Signs in at the portal, then opens /account. */
  async function signedIn(userId: string, appSecret?: (accountId: string) => Promise<string>) {
    const user = await t.createAccount({ userId });
    const secret = appSecret ? await appSecret(user.id) : undefined;
    if (secret) clock.advance(30); // the registration's code step is spent
    const ua = new UserAgent();
    const signInPage = await ua.follow((await startAuthorization(rp, REDIRECT)).url.toString());
    expect((await completeSignIn(ua, signInPage, user, secret)).redirectedTo).toMatch(/^http:\/\/localhost:7731\/cb\?/);
    return { ua, user, secret, page: await ua.follow(`${t.issuer}/account`) };
  }

  const isSignInPage = (page: Page) => cheerio.load(page.html)('label').filter((_, l) => cheerio.load(l).text().trim() === 'User ID or email').length === 1;

  it('shows the registration page at once after a recent sign-in', async () => {
    const { ua, page } = await signedIn('reauth.recent');
    const qr = await ua.submit(page, {}, { button: 'Register device' });
    expect(qr.status).toBe(200);
    expect(cheerio.load(qr.html)('#authenticator-secret').attr('data-secret')).toMatch(/^[A-Z2-7]+$/);
  });

  it('asks an older sign-in to sign in again before the registration page shows, then brings the person back to register', async () => {
    const { ua, user, page } = await signedIn('reauth.register');
    await sleep((MAX_AGE_SECONDS + 1.5) * 1000);
    const asked = await ua.submit(page, {}, { button: 'Register device' });
    expect(asked.status).toBe(200);
    expect(isSignInPage(asked)).toBe(true);
    expect(await t.idp.identity.stores.authenticators.findPending(user.id)).toBeNull();

    const back = await completeSignIn(ua, asked, user);
    expect(back.status).toBe(200);
    expect(new URL(back.url).pathname).toBe('/account');
    expect(textOf(back.html)).toContain('You signed in again. You can now register your authenticator app.');
    const qr = await ua.submit(back, {}, { button: 'Register device' });
    expect(cheerio.load(qr.html)('#authenticator-secret').attr('data-secret')).toMatch(/^[A-Z2-7]+$/);
  });

  it('asks an older sign-in to sign in again before the app is removed, keeps the app until then, and removes it afterwards', async () => {
    const { ua, user, secret, page } = await signedIn('reauth.remove', (id) => registerApp(t, id, clock));
    await sleep((MAX_AGE_SECONDS + 1.5) * 1000);
    clock.advance(30);
    const asked = await ua.submit(page, { 'Current code to remove the app': oathtool(secret!, clock.now()) }, { button: 'Remove app' });
    expect(isSignInPage(asked)).toBe(true);
    expect(await t.idp.identity.authenticatorApp.hasApp(user.id)).toBe(true);

    clock.advance(30);
    const back = await completeSignIn(ua, asked, user, secret);
    expect(textOf(back.html)).toContain('You signed in again. Enter the current code from your app to remove it.');
    clock.advance(30);
    const removed = await ua.submit(back, { 'Current code to remove the app': oathtool(secret!, clock.now()) }, { button: 'Remove app' });
    expect(textOf(removed.html)).toContain('Your authenticator app was removed.');
    expect(await t.idp.identity.authenticatorApp.hasApp(user.id)).toBe(false);
  });

  it('removes the app at once after a recent sign-in', async () => {
    const { ua, user, secret, page } = await signedIn('reauth.remove.recent', (id) => registerApp(t, id, clock));
    clock.advance(30);
    const removed = await ua.submit(page, { 'Current code to remove the app': oathtool(secret!, clock.now()) }, { button: 'Remove app' });
    expect(textOf(removed.html)).toContain('Your authenticator app was removed.');
    expect(await t.idp.identity.authenticatorApp.hasApp(user.id)).toBe(false);
  });

  it('shows no "signed in again" note for a return to /account/signed-in without a recent sign-in', async () => {
    const { ua } = await signedIn('reauth.forged');
    await sleep((MAX_AGE_SECONDS + 1.5) * 1000);
    const page = await ua.follow(`${t.issuer}/account/signed-in?state=register&code=forged`);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).not.toContain('You signed in again');
  });
});
