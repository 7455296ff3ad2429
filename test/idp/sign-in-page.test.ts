import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser, formWith, PASSWORD, startIdp, textOf, type IdpFixture } from './fixture.js';
import { openSignIn, submitForm } from './flow.js';

const REDIRECT = 'http://localhost:7201/cb';
const GENERIC = 'The user ID/email or password is incorrect.';

describe('the sign-in page', () => {
  let f: IdpFixture;
  let user: { id: string; userId: string; email: string };
  beforeAll(async () => {
    f = await startIdp();
    await f.client({ clientId: 'sign-in-client', redirectUri: REDIRECT });
    user = await f.account('page.user', await f.organization('Page Org', ['B07001']));
  });
  afterAll(() => f?.close());

  it('has a heading, labelled fields, a Sign in button and a CSRF token, and works on a phone', async () => {
    const { page } = await openSignIn(browser(f), 'sign-in-client', REDIRECT);
    expect(page.status).toBe(200);
    const $ = cheerio.load(page.text);
    expect($('h1').text()).toBe('Sign in');
    expect($('meta[name=viewport]').attr('content')).toContain('width=device-width');
    expect($('link[rel=stylesheet]').attr('href')).toBe('/assets/idp.css');
    // No inline script (strict CSP): only the passkey module, a static file under /assets.
    expect($('script').toArray().map((s) => [$(s).attr('src'), $(s).text().trim()])).toEqual([['/assets/passkey-sign-in.js', '']]);
    const login = formWith(page.text, 'User ID or email');
    expect(login.name).toBe('login');
    expect(formWith(page.text, 'Password').name).toBe('password');
    expect($('input[name=password]').attr('type')).toBe('password');
    expect($('button[type=submit]').text().trim()).toBe('Sign in');
    expect(login.fields._csrf).toMatch(/.{40,}/);
  });

  it('is not cached and carries the security headers', async () => {
    const { page } = await openSignIn(browser(f), 'sign-in-client', REDIRECT);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
  });

  it('answers an unknown user and a wrong password with the same status and the same page', async () => {
    const attempt = async (login: string, password: string) => {
      const b = browser(f);
      const { page } = await openSignIn(b, 'sign-in-client', REDIRECT);
      const res = await submitForm(b, page.text, 'User ID or email', { login, password });
      return { status: res.status, text: textOf(res.text) };
    };
    const unknown = await attempt('nobody.at.all', 'a-password-123');
    const wrong = await attempt(user.userId, 'a-password-123');
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain(GENERIC);
    expect(wrong).toEqual(unknown);
  });

  it('asks for missing fields without trying to sign in', async () => {
    const b = browser(f);
    const { page } = await openSignIn(b, 'sign-in-client', REDIRECT);
    const res = await submitForm(b, page.text, 'User ID or email', { login: ' ', password: '' });
    expect(res.status).toBe(400);
    expect(textOf(res.text)).toContain('Enter your user ID or email.');
    expect(textOf(res.text)).toContain('Enter your password.');
  });

  it('refuses a POST without the CSRF token with 403, even with the right password', async () => {
    const b = browser(f);
    const { page } = await openSignIn(b, 'sign-in-client', REDIRECT);
    const form = formWith(page.text, 'User ID or email');
    const res = await b.post(form.action).type('form').send({ login: user.userId, password: PASSWORD });
    expect(res.status).toBe(403);
    expect(textOf(res.text)).toContain('reload the page');
    expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(f.mails.filter((m) => m.to === user.email)).toHaveLength(0);
  });

  it("refuses another sign-in's CSRF token with 403", async () => {
    const b = browser(f);
    const first = await openSignIn(b, 'sign-in-client', REDIRECT);
    const second = await openSignIn(b, 'sign-in-client', REDIRECT);
    const target = formWith(second.page.text, 'User ID or email');
    const foreignToken = formWith(first.page.text, 'User ID or email').fields._csrf!;
    const res = await b.post(target.action).type('form').send({ _csrf: foreignToken, login: user.userId, password: 'whatever-123' });
    expect(res.status).toBe(403);
  });

  it('refuses a 1 MB password with 413 and a clear message, before any password check', async () => {
    const b = browser(f);
    const { page } = await openSignIn(b, 'sign-in-client', REDIRECT);
    const before = await f.identity.stores.audit.list({ type: 'account.sign_in_failed' });
    const res = await submitForm(b, page.text, 'User ID or email', { login: user.userId, password: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect(textOf(res.text)).toContain('larger than this form accepts (10 kB)');
    expect(res.headers['cache-control']).toBe('no-store');
    const after = await f.identity.stores.audit.list({ type: 'account.sign_in_failed' });
    expect(after).toHaveLength(before.length);
  });
});
