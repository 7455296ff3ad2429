import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser, startIdp, type IdpFixture } from './fixture.js';
import { openSignIn, submitForm } from './flow.js';

const REDIRECT = 'http://localhost:7701/cb';

describe('unexpected failures', () => {
  let f: IdpFixture;
  beforeAll(async () => {
    f = await startIdp();
    await f.client({ clientId: 'failure-client', redirectUri: REDIRECT });
  });
  afterAll(() => f?.close());

  it('answers a sign-in while the database is gone with a 503 page and an error reference, never a stack trace', async () => {
    const b = browser(f);
    const { page } = await openSignIn(b, 'failure-client', REDIRECT);
    await f.database.close();
    const started = Date.now();
    const res = await submitForm(b, page.text, 'User ID or email', { login: 'someone.here', password: 'whatever-1234' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    const $ = cheerio.load(res.text);
    expect($('h1').text()).toBe('Temporarily unavailable');
    expect($('.reference code').text()).toMatch(/^[\w-]{12}$/);
    expect(res.text).not.toMatch(/Error:|at .*\.(ts|js):\d+|pglite|drizzle/i);
    // A complete authorization request: it needs the database (session, interaction). An incomplete one is
    // answered from the briefly cached client metadata without it (invalid_request to the client).
    const query = new URLSearchParams({ client_id: 'failure-client', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const authorization = await b.get(`/auth?${query}`).set('Accept', 'text/html');
    expect(authorization.status).toBe(503);
    expect(authorization.text).not.toMatch(/Error:|at .*\.(ts|js):\d+/);
  });
});
