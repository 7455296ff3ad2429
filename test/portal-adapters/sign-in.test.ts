/**
 * The relying-party flow of portal-adapters against a real HTTP OpenID Provider (test-issuer.ts):
 * code flow with PKCE, state and nonce, the encrypted session, initiate_login_uri and RP-initiated logout.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortalAuth, createSessionCodec, type PortalAuth } from '../../portal-adapters/index.js';
import { cookiePair, setCookies } from './support/cookies.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

const baseUrl = 'http://localhost:3901';
const cookieSecret = 'a-test-cookie-secret-of-at-least-32-chars';
let idp: TestIssuer;
let auth: PortalAuth;
let app: express.Express;
const warnings: object[] = [];

beforeAll(async () => {
  idp = await startTestIssuer();
  auth = await createPortalAuth({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl, cookieSecret, allowInsecureRequests: true, logger: { warn: (details) => void warnings.push(details) } });
  app = express();
  app.use(auth.router);
  app.get('/reports', auth.requireAuth(), (_req, res) => res.json(res.locals.session));
  app.post('/reports', auth.requireAuth(), (_req, res) => res.json({ ok: true }));
});
afterAll(() => idp.close());

const claims = {
  sub: 'account-42',
  name: 'Jamie Chan',
  email: 'jamie@broker.example',
  organization: { id: 'org-1', name: 'Example Securities', participant_ids: ['B01234', 'CXYZ'] },
  functions: ['EU_UserMaintenance'],
  amr: ['pwd', 'otp'],
};

/** Runs /auth/login, lets the test issuer approve, and returns the callback response. */
async function signIn(loginPath = '/auth/login?returnTo=%2Freports%3Fday%3D1') {
  const login = await request(app).get(loginPath);
  const tx = cookiePair(setCookies(login).get('portal_session_tx'));
  const back = idp.authorize(login.headers.location!, claims);
  const callback = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', tx);
  return { login, callback };
}

describe('sign-in', () => {
  it('starts the code flow with PKCE S256, state and nonce, keeping them in an HttpOnly SameSite=Lax cookie', async () => {
    const login = await request(app).get('/auth/login');
    expect(login.status).toBe(303);
    const url = new URL(login.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/auth`);
    const p = url.searchParams;
    expect(p.get('response_type')).toBe('code');
    expect(p.get('client_id')).toBe(idp.clientId);
    expect(p.get('redirect_uri')).toBe(`${baseUrl}/auth/callback`);
    expect(p.get('scope')).toBe('openid profile email organization');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(p.get('state')).toBeTruthy();
    expect(p.get('nonce')).toBeTruthy();
    const tx = setCookies(login).get('portal_session_tx')!;
    expect(tx).toMatch(/HttpOnly/i);
    expect(tx).toMatch(/SameSite=Lax/i);
    expect(tx).toMatch(/Path=\/auth\//);
    expect(tx).not.toContain(p.get('state')!);
  });

  it('completes sign-in, builds the session from the ID token claims and returns to the requested page', async () => {
    const { callback } = await signIn();
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/reports?day=1');
    const line = setCookies(callback).get('portal_session')!;
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Lax/i);
    expect(line).toMatch(/Max-Age=3600/);
    const session = await createSessionCodec({ cookieSecret, clientId: idp.clientId }).open(cookiePair(line).split('=')[1]);
    expect(session).toMatchObject({
      sub: 'account-42',
      name: 'Jamie Chan',
      email: 'jamie@broker.example',
      organization: { id: 'org-1', name: 'Example Securities', participantIds: ['B01234', 'CXYZ'] },
      functions: ['EU_UserMaintenance'],
      amr: ['pwd', 'otp'],
    });
    expect(session!.idToken.split('.')).toHaveLength(3);
    const page = await request(app).get('/reports').set('Cookie', cookiePair(line));
    expect(page.status).toBe(200);
    expect(page.body.sub).toBe('account-42');
  });

  it('refuses a callback whose state does not match, with a page that offers to sign in again', async () => {
    const login = await request(app).get('/auth/login');
    const tx = cookiePair(setCookies(login).get('portal_session_tx'));
    const back = idp.authorize(login.headers.location!, claims);
    back.searchParams.set('state', 'forged');
    warnings.length = 0;
    const res = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', tx);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Sign-in did not complete');
    expect(res.text).toContain('Sign in again');
    expect(res.text).not.toMatch(/at .*\.ts|Error|state/);
    expect(warnings).toHaveLength(1);
    expect(setCookies(res).get('portal_session')).toBeUndefined();
  });

  it('refuses a callback without its sign-in cookie (stale or replayed) with a clear page', async () => {
    const login = await request(app).get('/auth/login');
    const back = idp.authorize(login.headers.location!, claims);
    const res = await request(app).get(`${back.pathname}${back.search}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('expired or was already completed');
  });

  it('shows a cancelled sign-in as such', async () => {
    const login = await request(app).get('/auth/login');
    const tx = cookiePair(setCookies(login).get('portal_session_tx'));
    const state = new URL(login.headers.location!).searchParams.get('state')!;
    const res = await request(app).get(`/auth/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(idp.issuer)}`).set('Cookie', tx);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Sign-in was cancelled.');
  });
});

describe('initiate_login_uri (OIDC Core §4)', () => {
  it('starts sign-in when iss is our issuer, keeping a same-origin target_link_uri and the login_hint', async () => {
    const q = new URLSearchParams({ iss: idp.issuer, target_link_uri: `${baseUrl}/reports`, login_hint: 'jchan01' });
    const { login, callback } = await signIn(`/auth/login?${q}`);
    expect(new URL(login.headers.location!).searchParams.get('login_hint')).toBe('jchan01');
    expect(callback.headers.location).toBe('/reports');
  });

  it('ignores a target_link_uri on another origin', async () => {
    const q = new URLSearchParams({ iss: idp.issuer, target_link_uri: 'https://evil.example/reports' });
    const { callback } = await signIn(`/auth/login?${q}`);
    expect(callback.headers.location).toBe('/');
  });

  it('refuses to start sign-in for another issuer', async () => {
    const res = await request(app).get('/auth/login?iss=https%3A%2F%2Fevil.example');
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('requireAuth', () => {
  it('sends a signed-out GET to sign-in with the original URL as returnTo', async () => {
    const res = await request(app).get('/reports?day=2');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/login?returnTo=%2Freports%3Fday%3D2');
  });

  it('answers a signed-out POST with 401 JSON', async () => {
    const res = await request(app).post('/reports');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthenticated');
  });

  it('treats a tampered session cookie as signed out', async () => {
    const { callback } = await signIn();
    const pair = cookiePair(setCookies(callback).get('portal_session'));
    const tampered = pair.slice(0, -3) + (pair.endsWith('AAA') ? 'BBB' : 'AAA');
    const res = await request(app).get('/reports').set('Cookie', tampered);
    expect(res.status).toBe(303);
  });
});

describe('logout (OIDC RP-Initiated Logout 1.0)', () => {
  it('clears the session and redirects to the end_session_endpoint with id_token_hint and post_logout_redirect_uri', async () => {
    const { callback } = await signIn();
    const cookie = cookiePair(setCookies(callback).get('portal_session'));
    const session = await createSessionCodec({ cookieSecret, clientId: idp.clientId }).open(cookie.split('=')[1]);
    const res = await request(app).post('/auth/logout').set('Cookie', cookie).type('form').send({ _csrf: session!.csrfToken });
    expect(res.status).toBe(303);
    const url = new URL(res.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe(`${idp.issuer}/session/end`);
    expect(url.searchParams.get('id_token_hint')).toBe(session!.idToken);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${baseUrl}/`);
    expect(setCookies(res).get('portal_session')).toMatch(/Expires=Thu, 01 Jan 1970/);
  });

  it('refuses a logout form without the session CSRF token', async () => {
    const { callback } = await signIn();
    const cookie = cookiePair(setCookies(callback).get('portal_session'));
    const res = await request(app).post('/auth/logout').set('Cookie', cookie).type('form').send({ _csrf: 'guess' });
    expect(res.status).toBe(403);
    expect(setCookies(res).get('portal_session')).toBeUndefined();
  });
});
