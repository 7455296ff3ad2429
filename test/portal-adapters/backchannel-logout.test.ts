/**
 * `POST /auth/backchannel-logout` (OIDC Back-Channel Logout 1.0 §2.4–2.8) against a real HTTP test issuer whose
 * RS256 key is generated here: which logout tokens are accepted (explicitly typed `logout+jwt`, each `jti` once),
 * that an accepted one signs out the sessions begun before its `iat` and no later one, that bad bodies get 4xx —
 * and, against the real connect-iam IdP, that oidc-provider's logout tokens carry `typ: logout+jwt`.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { decodeProtectedHeader, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEcp } from '../../examples/ecp/app.js';
import {
  BACKCHANNEL_LOGOUT_EVENT, createMemoryLogoutStore, createMemoryReplayStore, createPortalAuth, type PortalAuth, type PortalAuthOptions,
} from '../../portal-adapters/index.js';
import { requestLink, setPassword } from '../recovery/support.js';
import { freePort } from '../support/browser.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { UserAgent } from '../support/user-agent.js';
import { cookiePair, sessionCookie, setCookies } from './support/cookies.js';
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

/**
 * A logout token signed by the test issuer (or `key`), audience this client, `typ: logout+jwt` and a fresh `jti`;
 * `claims` override the defaults, `issuedAt` (seconds since the epoch) replaces now as `iat`.
 */
function logoutToken(claims: JWTPayload = {}, options: { expiresInSeconds?: number; key?: CryptoKey; audience?: string; typ?: string | null; issuedAt?: number } = {}) {
  return idp.signAccessToken(options.audience ?? idp.clientId, {
    claims: { sub: 'account-1', events, ...claims },
    typ: options.typ === undefined ? 'logout+jwt' : options.typ,
    expiresInSeconds: options.expiresInSeconds,
    key: options.key,
    issuedAt: options.issuedAt,
  });
}
const nowSeconds = () => Math.floor(Date.now() / 1000);

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
    ['no JWS typ header', () => logoutToken({}, { typ: null })],
    ['typ JWT instead of logout+jwt', () => logoutToken({}, { typ: 'JWT' })],
    ['typ at+jwt (an access token)', () => logoutToken({}, { typ: 'at+jwt' })],
    ['an iat in the future', () => logoutToken({}, { issuedAt: nowSeconds() + 600, expiresInSeconds: 900 })],
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

describe('replayed logout tokens', () => {
  it('accepts a logout token once and refuses the same token again with 400 invalid_request', async () => {
    const token = await logoutToken({ sub: 'account-replay' });
    expect((await post(token)).status).toBe(200);
    const replay = await post(token);
    expect(replay.status).toBe(400);
    expect(replay.body).toEqual({ error: 'invalid_request', error_description: 'this logout token was already received' });
    expect(replay.headers['cache-control']).toBe('no-store');
  });

  it('refuses a replay at another portal instance sharing the replay store, which still sees the logout', async () => {
    const shared = { logoutStore: createMemoryLogoutStore(), replayStore: createMemoryReplayStore() };
    const instance = async (stores: Partial<PortalAuthOptions>) => {
      const a = await createPortalAuth({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl, cookieSecret, cookieName, allowInsecureRequests: true, logger: { warn: () => {} }, ...stores });
      return express().use(a.router).get('/reports', a.requireAuth(), (_req, res) => res.json({ ok: true }));
    };
    const [first, second] = [await instance(shared), await instance(shared)];
    const session = await cookie('account-shared', { signedInAt: Date.now() - 1000 });
    expect((await request(second).get('/reports').set('Cookie', session)).status).toBe(200);
    const token = await logoutToken({ sub: 'account-shared' });
    expect((await request(first).post('/auth/backchannel-logout').type('form').send({ logout_token: token })).status).toBe(200);
    const replay = await request(second).post('/auth/backchannel-logout').type('form').send({ logout_token: token });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_request');
    expect((await request(second).get('/reports').set('Cookie', session)).status).toBe(303);
  });
});

describe('what an accepted logout ends', () => {
  it('a sub-only token ends the sessions begun before its iat and keeps those begun after it was issued', async () => {
    const issuedAt = nowSeconds() - 60;
    const older = await cookie('account-iat', { signedInAt: (issuedAt - 60) * 1000 });
    const newer = await cookie('account-iat', { signedInAt: (issuedAt + 30) * 1000 });
    expect((await post(await logoutToken({ sub: 'account-iat' }, { issuedAt }))).status).toBe(200);
    expect((await request(app).get('/reports').set('Cookie', older)).status).toBe(303);
    expect((await request(app).get('/reports').set('Cookie', newer)).status).toBe(200);
  });

  it('a token with sid ends that session only when it began before the token was issued', async () => {
    const issuedAt = nowSeconds() - 60;
    const older = await cookie('account-sid-iat', { sid: 'sid-iat', signedInAt: (issuedAt - 1) * 1000 });
    const newer = await cookie('account-sid-iat', { sid: 'sid-iat', signedInAt: (issuedAt + 1) * 1000 });
    expect((await post(await logoutToken({ sub: 'account-sid-iat', sid: 'sid-iat' }, { issuedAt }))).status).toBe(200);
    expect((await request(app).get('/reports').set('Cookie', older)).status).toBe(303);
    expect((await request(app).get('/reports').set('Cookie', newer)).status).toBe(200);
  });

  it('a session signed in through the callback records its start: an older logout token leaves it, a newer one ends it', async () => {
    const login = await request(app).get('/auth/login?returnTo=%2Freports');
    const back = idp.authorize(login.headers.location!, { sub: 'account-callback' });
    const callback = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', cookiePair(setCookies(login).get(`${cookieName}_tx`)));
    expect(callback.status).toBe(303);
    const session = cookiePair(setCookies(callback).get(cookieName));
    expect((await post(await logoutToken({ sub: 'account-callback' }, { issuedAt: nowSeconds() - 30 }))).status).toBe(200);
    expect((await request(app).get('/reports').set('Cookie', session)).status).toBe(200);
    expect((await post(await logoutToken({ sub: 'account-callback' }))).status).toBe(200);
    expect((await request(app).get('/reports').set('Cookie', session)).status).toBe(303);
  });

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

describe('bodies the endpoint cannot read', () => {
  let ecp: express.Express;
  beforeAll(async () => {
    // A demo portal: its last-resort error handler answers 500, so only the adapter's own answers count.
    ecp = await createEcp({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl, cookieSecret, allowInsecureRequests: true, logger: { warn: () => {} } });
  });

  it('answers a 1 MB body with 413 invalid_request, not 500', async () => {
    const res = await request(ecp).post('/auth/backchannel-logout').type('form').send(`logout_token=${'a'.repeat(1024 * 1024)}`);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['an unsupported charset', { 'content-type': 'application/x-www-form-urlencoded; charset=x-unknown' }, 'logout_token=abc'],
    ['an unknown Content-Encoding', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'x-bogus' }, 'logout_token=abc'],
    ['a gzip body that is not gzip', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, 'logout_token=abc'],
    ['a JSON body', { 'content-type': 'application/json' }, '{"logout_token":"abc"}'],
    ['two logout_token fields', { 'content-type': 'application/x-www-form-urlencoded' }, 'logout_token=a&logout_token=b'],
    ['a NUL byte in the token', { 'content-type': 'application/x-www-form-urlencoded' }, 'logout_token=a%00b'],
    ['malformed percent-encoding', { 'content-type': 'application/x-www-form-urlencoded' }, 'logout_token=%zz%FF'],
  ])('answers %s with 400 invalid_request', async (_case, headers, body) => {
    const res = await request(ecp).post('/auth/backchannel-logout').set(headers).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers a 1 MB sign-out form with 413, not 500', async () => {
    const res = await request(ecp).post('/auth/logout').type('form').send(`_csrf=${'a'.repeat(1024 * 1024)}`);
    expect(res.status).toBe(413);
  });
});

describe('the in-memory replay store', () => {
  it('consumes a key once and forgets it after its TTL', async () => {
    let now = 1_000_000;
    const store = createMemoryReplayStore(() => now);
    expect(await store.consume('jti-1', 60)).toBe(true);
    expect(await store.consume('jti-1', 60)).toBe(false);
    expect(await store.consume('jti-2', 60)).toBe(true);
    now += 60_001;
    expect(await store.consume('jti-1', 60)).toBe(true);
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

describe('logout tokens from the real connect-iam IdP (oidc-provider)', () => {
  let t: TestIdp;
  let portal: { url: string; close(): Promise<void> };
  const received: string[] = [];

  beforeAll(async () => {
    t = await startTestIdp({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: 'localhost' });
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const registered = await t.idp.clients.create({
      clientId: 'bcl-real-portal', redirectUris: [`${url}/auth/callback`], postLogoutRedirectUris: [`${url}/`],
      backchannelLogoutUri: `${url}/auth/backchannel-logout`, firstParty: true,
    });
    const real = await createPortalAuth({ issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret!, baseUrl: url, cookieSecret, cookieName: 'real_session', allowInsecureRequests: true, logger: { warn: () => {} } });
    const server = express()
      .post('/auth/backchannel-logout', express.urlencoded({ extended: false }), (req, _res, next) => {
        received.push(String((req.body as Record<string, unknown>).logout_token));
        next();
      })
      .use(real.router)
      .get('/reports', real.requireAuth(), (_req, res) => res.send('reports'))
      .listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    expect((server.address() as AddressInfo).port).toBe(port);
    portal = { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
  });
  afterAll(async () => {
    await portal?.close();
    await t?.close();
  });

  it('sends typ logout+jwt, which the portal accepts once: a password reset signs the person out, a replay is refused', async () => {
    const user = await t.createAccount({ userId: 'bcl.real', functions: ['EU_UserMaintenance'] });
    const ua = new UserAgent();
    const signIn = await ua.follow(`${portal.url}/reports`);
    expect(signIn.html).toContain('User ID or email');
    const since = t.smtp.messages.length;
    const codePage = await submitPassword(ua, signIn, user.userId, user.password);
    const done = await ua.submit(codePage, { 'One-time code': otpFrom(await t.smtp.waitFor(user.email, { since })) });
    expect(done.url).toBe(`${portal.url}/reports`);
    expect(done.html).toBe('reports');

    const { link } = await requestLink(t, user.userId, user.email);
    expect((await setPassword(link, 'a brand new passphrase for the real idp')).status).toBe(200);
    expect(received).toHaveLength(1);
    expect(decodeProtectedHeader(received[0]!).typ).toBe('logout+jwt');
    const again = await ua.request(`${portal.url}/reports`);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/auth/login?returnTo=%2Freports');

    const replay = await fetch(`${portal.url}/auth/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: received[0]! }) });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_request' });
  });
});
