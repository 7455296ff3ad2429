import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, browser, formWith, ISSUER, latestCode, locationOf, PASSWORD, startIdp, textOf, type IdpFixture } from './fixture.js';
import { openSignIn, signIn, submitForm } from './flow.js';

const KNOWN = { clientId: 'stale-known', redirectUri: 'http://localhost:7501/cb', initiateLoginUri: 'https://portal.example.test/login', name: 'stale-known' };
const RESTART_AT_CLIENT = `${KNOWN.initiateLoginUri}?iss=${encodeURIComponent(ISSUER)}`;

describe('a stale, replayed, bookmarked or unknown sign-in URL restarts cleanly (design/domain.md rule 2)', () => {
  let f: IdpFixture;
  let user: { id: string; userId: string; email: string };
  beforeAll(async () => {
    f = await startIdp();
    await f.client(KNOWN);
    user = await f.account('stale.user', await f.organization('Stale Org', ['B07501']));
  });
  afterAll(() => f?.close());

  it('sends an unknown interaction (GET or POST) to the home page, which says the page expired and lists the applications', async () => {
    const b = browser(f);
    for (const res of [await b.get('/interaction/unknown-uid'), await b.post('/interaction/unknown-uid/password').type('form').send({ login: 'x', password: 'y' })]) {
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/?expired=1');
    }
    const home = await b.get('/?expired=1');
    expect(home.status).toBe(200);
    expect(textOf(home.text)).toContain('That sign-in page has expired or was already used.');
    const $ = cheerio.load(home.text);
    expect($('h1').text()).toBe('Sign in');
    expect($('ul.applications a').attr('href')).toBe(RESTART_AT_CLIENT);
    expect($('ul.applications a').text()).toBe('stale-known');
  });

  it("sends a bookmarked sign-in page opened without its cookie to the client's initiate_login_uri", async () => {
    const { path } = await openSignIn(browser(f), KNOWN.clientId, KNOWN.redirectUri);
    const res = await browser(f).get(path);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(RESTART_AT_CLIENT);
  });

  it('restarts a finished sign-in replayed with the back button (GET, POST and the resume URL)', async () => {
    const b = browser(f);
    const { page, path } = await openSignIn(b, KNOWN.clientId, KNOWN.redirectUri);
    const afterPassword = await submitForm(b, page.text, 'User ID or email', { login: user.userId, password: PASSWORD });
    const codePage = await b.get(locationOf(afterPassword));
    const finished = await submitForm(b, codePage.text, 'One-time code', { code: latestCode(f, user.email) });
    const resumePath = locationOf(finished);
    expect((await b.get(resumePath)).status).toBe(303);

    const replays = [
      await b.get(path),
      await submitForm(b, page.text, 'User ID or email', { login: user.userId, password: PASSWORD }),
      await submitForm(b, codePage.text, 'One-time code', { code: '123456' }),
      await b.get(resumePath),
    ];
    for (const res of replays) {
      expect(res.status).toBe(303);
      expect([RESTART_AT_CLIENT, '/?expired=1']).toContain(res.headers.location);
    }
    expect(replays[0]!.headers.location).toBe(RESTART_AT_CLIENT);
  });

  it('restarts an expired sign-in instead of showing an error', async () => {
    // 3 s, not 1: on a busy machine opening the sign-in page alone can take longer than a second.
    const short = await startIdp({ INTERACTION_TTL_SECONDS: '3' });
    try {
      await short.client(KNOWN);
      const b = browser(short);
      const { page } = await openSignIn(b, KNOWN.clientId, KNOWN.redirectUri);
      expect(textOf(page.text)).toContain('User ID or email');
      await new Promise((resolve) => setTimeout(resolve, 3200));
      const res = await submitForm(b, page.text, 'User ID or email', { login: 'someone', password: 'something' });
      expect(res.status).toBe(303);
      expect([RESTART_AT_CLIENT, '/?expired=1']).toContain(res.headers.location);
    } finally {
      await short.close();
    }
  }, 30_000);

  it('opens the step page when a form URL is bookmarked', async () => {
    const b = browser(f);
    const { page, path } = await openSignIn(b, KNOWN.clientId, KNOWN.redirectUri);
    const res = await b.get(formWith(page.text, 'User ID or email').action);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(path);
    expect(formWith((await b.get(path)).text, 'User ID or email').name).toBe('login');
  });

  it('keeps a signed-in person signed in: the restart at the client ends in SSO', async () => {
    const b = browser(f);
    await signIn(f, b, { clientId: KNOWN.clientId, redirectUri: KNOWN.redirectUri, login: user.userId, email: user.email });
    const again = await b.get(authorizationUrl(KNOWN.clientId, KNOWN.redirectUri).url);
    expect(again.status).toBe(303);
    expect(again.headers.location).toMatch(/^http:\/\/localhost:7501\/cb\?code=/);
  });
});
