/**
 * `POST /auth/backchannel-logout` (OIDC Back-Channel Logout 1.0 §2.6–2.8) against a real HTTP test issuer whose
 * RS256 key is generated here: which logout tokens are accepted, and that an accepted one signs the person out.
 */
import express from 'express';
import { generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, createMemoryLogoutStore, createPortalAuth, type PortalAuth } from '../../portal-adapters/index.js';
import { sessionCookie } from './support/cookies.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

const baseUrl = 'http://localhost:3902';
const cookieSecret = 'a-test-cookie-secret-of-at-least-32-chars';
const cookieName = 'bcl_session';
let idp: TestIssuer;
let auth: PortalAuth;
let app: express.Express;

beforeAll(async () => {
  idp = await startTestIssuer('bcl-portal', 'bcl-portal-secret');
  auth = await createPortalAuth({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl, cookieSecret, cookieName, allowInsecureRequests: true, logger: { warn: () => {} } });
  app = express();
  app.use(auth.router);
  app.get('/reports', auth.requireAuth(), (_req, res) => res.json({ sub: res.locals.session.sub }));
  app.post('/reports', auth.requireAuth(), (_req, res) => res.json({ ok: true }));
});
afterAll(() => idp.close());

const events = { [BACKCHANNEL_LOGOUT_EVENT]: {} };

/** A logout token signed by the test issuer (or `key`), audience this client; `claims` override the defaults. */
function logoutToken(claims: JWTPayload = {}, options: { expiresInSeconds?: number; key?: CryptoKey; audience?: string } = {}) {
  return idp.signAccessToken(options.audience ?? idp.clientId, { claims: { sub: 'account-1', events, ...claims }, typ: 'logout+jwt', expiresInSeconds: options.expiresInSeconds, key: options.key });
}

const post = (token: string | undefined) => request(app).post('/auth/backchannel-logout').type('form').send(token === undefined ? {} : { logout_token: token });
const cookie = (sub: string, extra: { sid?: string; signedInAt?: number } = {}) => sessionCookie({ cookieSecret, clientId: idp.clientId, cookieName }, { sub, ...extra });

describe('logout token validation', () => {
  it('accepts a valid token with 200 and Cache-Control: no-store', async () => {
    const res = await post(await logoutToken({ sub: 'account-ok' }));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['a wrong audience', () => logoutToken({}, { audience: 'another-client' })],
    ['a wrong issuer', () => logoutToken({ iss: 'http://127.0.0.1:1/not-the-issuer' })],
    ['no events claim', () => logoutToken({ events: undefined })],
    ['events without the back-channel-logout member', () => logoutToken({ events: { 'http://schemas.openid.net/event/other': {} } })],
    ['a nonce', () => logoutToken({ nonce: 'n-0S6_WzA2Mj' })],
    ['neither sub nor sid', () => logoutToken({ sub: undefined })],
    ['an expired exp', () => logoutToken({}, { expiresInSeconds: -120 })],
    ['no jti', () => logoutToken({ jti: undefined })],
  ])('refuses a token with %s: 400 invalid_request', async (_case, make) => {
    const res = await post(await make());
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a token signed with a key the issuer does not publish, and a request without a token', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await post(await logoutToken({}, { key: privateKey }));
    expect(forged.status).toBe(400);
    expect(forged.body.error).toBe('invalid_request');
    const missing = await post(undefined);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
  });
});

describe('what an accepted logout ends', () => {
  it('a sub-only token signs out the sessions of that person that began before it, not later ones nor others', async () => {
    const before = await cookie('account-sub', { signedInAt: Date.now() - 1000 });
    const other = await cookie('account-other', { signedInAt: Date.now() - 1000 });
    expect((await request(app).get('/reports').set('Cookie', before)).status).toBe(200);
    expect((await post(await logoutToken({ sub: 'account-sub' }))).status).toBe(200);
    const page = await request(app).get('/reports').set('Cookie', before);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/auth/login?returnTo=%2Freports');
    expect((await request(app).post('/reports').set('Cookie', before)).status).toBe(401);
    expect((await request(app).get('/reports').set('Cookie', other)).status).toBe(200);
    const after = await cookie('account-sub', { signedInAt: Date.now() + 1 });
    expect((await request(app).get('/reports').set('Cookie', after)).status).toBe(200);
  });

  it('a token with sid signs out that session only', async () => {
    const first = await cookie('account-sid', { sid: 'sid-first', signedInAt: Date.now() - 1000 });
    const second = await cookie('account-sid', { sid: 'sid-second', signedInAt: Date.now() - 1000 });
    expect((await post(await logoutToken({ sub: 'account-sid', sid: 'sid-first' }))).status).toBe(200);
    expect((await request(app).get('/reports').set('Cookie', first)).status).toBe(303);
    expect((await request(app).get('/reports').set('Cookie', second)).status).toBe(200);
  });
});

describe('the in-memory logout store', () => {
  it('keeps the later instant and forgets entries after their TTL', async () => {
    let now = 1_000_000;
    const store = createMemoryLogoutStore(() => now);
    await store.record('k', 500, 60);
    await store.record('k', 400, 60);
    expect(await store.loggedOutAt('k')).toBe(500);
    now += 60_001;
    expect(await store.loggedOutAt('k')).toBeNull();
  });
});
