import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser, formWithButton, latestCode, locationOf, onIssuer, PASSWORD, startIdp, textOf, type Browser, type IdpFixture } from './fixture.js';
import { openSignIn, redeem, signIn, submitForm } from './flow.js';

const THIRD = { clientId: 'third-party', redirectUri: 'http://localhost:7601/cb', firstParty: false };
const FIRST = { clientId: 'first-party', redirectUri: 'http://localhost:7602/cb', postLogoutRedirectUri: 'http://localhost:7602/' };

describe('consent for clients that are not first-party', () => {
  let f: IdpFixture;
  let user: { id: string; userId: string; email: string };
  beforeAll(async () => {
    f = await startIdp();
    await f.client(THIRD);
    user = await f.account('consent.user', await f.organization('Consent Org', ['B07601']));
  });
  afterAll(() => f?.close());

  /** Signs in at the third-party client and returns the consent page. */
  async function consentPage(b: Browser) {
    const { page } = await openSignIn(b, THIRD.clientId, THIRD.redirectUri);
    const codePage = await b.get(locationOf(await submitForm(b, page.text, 'User ID or email', { login: user.userId, password: PASSWORD })));
    const finished = await submitForm(b, codePage.text, 'One-time code', { code: latestCode(f, user.email) });
    const resumed = await b.get(locationOf(finished));
    expect(resumed.status).toBe(303);
    return b.get(locationOf(resumed));
  }

  it('asks the End-User, and Allow continues to the client with a code', async () => {
    const b = browser(f);
    const page = await consentPage(b);
    expect(page.status).toBe(200);
    expect(cheerio.load(page.text)('h1').text()).toBe('Allow access?');
    expect(textOf(page.text)).toContain('The organization you act for and your access rights in it');
    const allow = formWithButton(page.text, 'Allow');
    const res = await b.post(allow.action).type('form').send({ ...allow.fields, decision: 'allow' });
    const back = await b.get(locationOf(res));
    expect(new URL(back.headers.location!).searchParams.get('code')).toBeTruthy();
  });

  it('returns access_denied to the client on Cancel', async () => {
    const b = browser(f);
    const page = await consentPage(b);
    const cancel = formWithButton(page.text, 'Cancel');
    const res = await b.post(cancel.action).type('form').send({ ...cancel.fields, decision: 'cancel' });
    const back = await b.get(locationOf(res));
    expect(new URL(back.headers.location!).searchParams.get('error')).toBe('access_denied');
  });
});

describe('RP-initiated logout', () => {
  let f: IdpFixture;
  let secret: string;
  let user: { id: string; userId: string; email: string };
  beforeAll(async () => {
    f = await startIdp();
    secret = await f.client(FIRST);
    user = await f.account('logout.user', await f.organization('Logout Org', ['B07602']));
  });
  afterAll(() => f?.close());

  it('shows our Sign out page, ends the IdP session and records account.signed_out', async () => {
    const b = browser(f);
    const { callback, verifier } = await signIn(f, b, { ...FIRST, login: user.userId, email: user.email });
    const tokens = await redeem(b, { ...FIRST, secret, callback, verifier });
    const params = new URLSearchParams({ id_token_hint: tokens.body.id_token, post_logout_redirect_uri: FIRST.postLogoutRedirectUri });
    const page = await b.get(`/session/end?${params}`);
    expect(page.status).toBe(200);
    expect(cheerio.load(page.text)('h1').text()).toBe('Sign out');
    expect(page.text).not.toMatch(/<script/);
    const form = formWithButton(page.text, 'Sign out');
    expect(form.fields.xsrf).toBeTruthy();
    const res = await b.post(onIssuer(form.action)).type('form').send(form.fields);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(FIRST.postLogoutRedirectUri);
    expect(await f.identity.stores.audit.list({ accountId: user.id, type: 'account.signed_out' })).toHaveLength(1);
    const again = await openSignIn(b, FIRST.clientId, FIRST.redirectUri);
    expect(textOf(again.page.text)).toContain('User ID or email');
  });

  it('shows our signed-out page when the client gives no post-logout redirect URI', async () => {
    const page = await browser(f).get(`/session/end/success?client_id=${FIRST.clientId}`);
    expect(page.status).toBe(200);
    expect(cheerio.load(page.text)('h1').text()).toBe('You have signed out');
  });

  it('shows our error page, without a stack trace, for a logout request from an unknown client', async () => {
    const page = await browser(f).get('/session/end?client_id=nobody').set('Accept', 'text/html');
    expect(page.status).toBe(400);
    expect(cheerio.load(page.text)('h1').text()).toBe('This request cannot be completed');
    expect(page.text).not.toMatch(/at .*\.js:\d+/);
  });
});
