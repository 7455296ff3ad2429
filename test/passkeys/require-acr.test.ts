/**
 * portal-adapters' `requireAcr('phr')`: a session whose sign-in was not phishing-resistant is sent through sign-in
 * again with `acr_values=phr`; the callback keeps the ID token's `acr`; an ID token that still lacks it gets a page
 * instead of a loop; after `verifyBearer`, the access token's `acr` decides (RFC 9470 step-up challenge).
 * Against the small test issuer; the end-to-end flow with connect-iam is acr-values-browser.test.ts.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortalAuth, PHISHING_RESISTANT_ACR, type PortalAuth } from '../../portal-adapters/index.js';
import { cookiePair, sessionCookie, setCookies } from '../portal-adapters/support/cookies.js';
import { startTestIssuer, type TestIssuer } from '../portal-adapters/support/test-issuer.js';

const cookieSecret = 'require-acr-cookie-secret-of-32-chars!';
const audience = 'urn:connect-iam:portal-api';
let idp: TestIssuer;
let auth: PortalAuth;
let app: express.Express;
let cookieApp: { cookieSecret: string; clientId: string; cookieName: string };

beforeAll(async () => {
  idp = await startTestIssuer();
  auth = await createPortalAuth({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3905', cookieSecret, allowInsecureRequests: true });
  cookieApp = { cookieSecret, clientId: idp.clientId, cookieName: 'portal_session' };
  app = express();
  app.use(auth.router);
  app.get('/grants', auth.requireAcr(PHISHING_RESISTANT_ACR), (_req, res) => res.send(`grants for ${res.locals.session.sub} (${res.locals.session.acr})`));
  app.post('/grants', auth.requireAcr('phr'), (_req, res) => res.send('granted'));
  app.get('/api/grants', auth.verifyBearer({ audience }), auth.requireAcr('phr'), (_req, res) => res.json({ ok: true }));
});
afterAll(() => idp.close());

describe('requireAcr', () => {
  it('lets a session whose sign-in gave acr phr through', async () => {
    const res = await request(app).get('/grants').set('Cookie', await sessionCookie(cookieApp, { amr: ['hwk', 'user', 'mfa'], acr: 'phr' }));
    expect(res.status).toBe(200);
    expect(res.text).toBe('grants for account-1 (phr)');
  });

  it('sends a session without phr through sign-in again with acr_values=phr, and back to the page', async () => {
    const res = await request(app).get('/grants?tab=2').set('Cookie', await sessionCookie(cookieApp, { amr: ['pwd', 'otp', 'mfa'] }));
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/login?acr_values=phr&returnTo=%2Fgrants%3Ftab%3D2');
    const login = await request(app).get(res.headers.location!);
    expect(login.status).toBe(303);
    const authorization = new URL(login.headers.location!);
    expect(authorization.searchParams.get('acr_values')).toBe('phr');

    // The IdP answers with an ID token whose acr is phr: the session keeps it and the page opens.
    const back = idp.authorize(authorization.href, { sub: 'account-9', functions: [], amr: ['hwk', 'user', 'mfa'], acr: 'phr' });
    const tx = cookiePair(setCookies(login).get('portal_session_tx'));
    const callback = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', tx);
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/grants?tab=2');
    const page = await request(app).get('/grants?tab=2').set('Cookie', cookiePair(setCookies(callback).get('portal_session')));
    expect(page.text).toBe('grants for account-9 (phr)');
  });

  it('answers a page, not a loop, when the IdP signed the person in without phr after all', async () => {
    const login = await request(app).get('/auth/login?acr_values=phr&returnTo=%2Fgrants');
    const back = idp.authorize(login.headers.location!, { sub: 'account-3', functions: [], amr: ['pwd', 'otp', 'mfa'] });
    const callback = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', cookiePair(setCookies(login).get('portal_session_tx')));
    expect(callback.status).toBe(403);
    expect(callback.text).toContain('A stronger sign-in is needed');
    expect(callback.text).toContain('passkey');
  });

  it('ignores an acr_values that is not a list of ACR values', async () => {
    const login = await request(app).get('/auth/login?acr_values=%22%3E%3Cscript%3E&returnTo=%2F');
    expect(new URL(login.headers.location!).searchParams.has('acr_values')).toBe(false);
  });

  it('answers 401 JSON insufficient_user_authentication to other methods, and sends a signed-out visitor to sign-in with acr_values', async () => {
    const post = await request(app).post('/grants').set('Cookie', await sessionCookie(cookieApp, { acr: 'urn:other' }));
    expect(post.status).toBe(401);
    expect(post.body).toEqual({ error: 'insufficient_user_authentication', message: expect.any(String), acr_values: 'phr' });
    const signedOut = await request(app).get('/grants');
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.location).toBe('/auth/login?acr_values=phr&returnTo=%2Fgrants');
  });

  it('after verifyBearer, decides on the access token\'s acr with an RFC 9470 step-up challenge', async () => {
    const ok = await request(app).get('/api/grants').set('Authorization', `Bearer ${await idp.signAccessToken(audience, { claims: { acr: 'phr' } })}`);
    expect(ok.status).toBe(200);
    const weak = await request(app).get('/api/grants').set('Authorization', `Bearer ${await idp.signAccessToken(audience, { claims: { amr: ['pwd', 'otp'] } })}`);
    expect(weak.status).toBe(401);
    expect(weak.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="phr"');
  });

  it('refuses to be created without a valid ACR value', () => {
    expect(() => auth.requireAcr()).toThrow(TypeError);
    expect(() => auth.requireAcr('two words')).toThrow(TypeError);
  });
});
