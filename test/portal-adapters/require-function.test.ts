/**
 * `requireFunction` on a route: allowed with the function, 403 with the policy's message without it,
 * and always 403 for a name the catalogue does not know (deny by default); after `verifyBearer`, on the verified
 * access token's `functions` claim instead of the session.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortalAuth, type PortalAuth } from '../../portal-adapters/index.js';
import { evaluateFunctions } from '../../policies/index.js';
import { sessionCookie } from './support/cookies.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

const cookieSecret = 'require-function-cookie-secret-32-chars';
let idp: TestIssuer;
let auth: PortalAuth;
let app: express.Express;
let cookieApp: { cookieSecret: string; clientId: string; cookieName: string };

beforeAll(async () => {
  idp = await startTestIssuer();
  auth = await createPortalAuth({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3904', cookieSecret, allowInsecureRequests: true });
  cookieApp = { cookieSecret, clientId: idp.clientId, cookieName: 'portal_session' };
  app = express();
  app.get('/users', auth.requireFunction('EU_UserMaintenance'), (_req, res) => res.send(`users for ${res.locals.session.sub}`));
  app.get('/either', auth.requireFunction('EU_UserMaintenance', 'EU_ParticipantshipManagement'), (_req, res) => res.send('ok'));
  app.get('/typo', auth.requireFunction('EU_UserMaintainance'), (_req, res) => res.send('opened'));
  app.get('/nothing', auth.requireFunction(), (_req, res) => res.send('opened'));
});
afterAll(() => idp.close());

describe('requireFunction', () => {
  it('lets a session holding the function through', async () => {
    const res = await request(app).get('/users').set('Cookie', await sessionCookie(cookieApp, { functions: ['EU_UserMaintenance'] }));
    expect(res.status).toBe(200);
    expect(res.text).toBe('users for account-1');
  });

  it('lets through a session holding any one of several functions', async () => {
    const res = await request(app).get('/either').set('Cookie', await sessionCookie(cookieApp, { functions: ['EU_ParticipantshipManagement'] }));
    expect(res.status).toBe(200);
  });

  it("answers 403 with the policy's message as a page without the function", async () => {
    const res = await request(app).get('/users').set('Cookie', await sessionCookie(cookieApp, { functions: ['EU_ECPSFTP'] }));
    expect(res.status).toBe(403);
    expect(res.type).toBe('text/html');
    const { message } = evaluateFunctions(['EU_ECPSFTP'], ['EU_UserMaintenance']);
    expect(res.text).toContain(message.replace(/'/g, '&#39;'));
    expect(res.text).toContain('<meta name="viewport"');
  });

  it('answers 403 JSON with reason and message for Accept: application/json', async () => {
    const res = await request(app).get('/users').set('Accept', 'application/json').set('Cookie', await sessionCookie(cookieApp, { functions: [] }));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'forbidden', reason: 'function_missing', message: evaluateFunctions([], ['EU_UserMaintenance']).message });
  });

  it('denies a function name the catalogue does not know, whatever the session holds', async () => {
    const res = await request(app).get('/typo').set('Accept', 'application/json').set('Cookie', await sessionCookie(cookieApp, { functions: ['EU_UserMaintainance', 'EU_UserMaintenance'] }));
    expect(res.status).toBe(403);
    expect(res.body.reason).toBe('policy_misconfigured');
  });

  it('denies a route that names no function', async () => {
    const res = await request(app).get('/nothing').set('Cookie', await sessionCookie(cookieApp, { functions: ['EU_UserMaintenance'] }));
    expect(res.status).toBe(403);
  });

  it('sends a signed-out visitor to sign-in first', async () => {
    const res = await request(app).get('/users');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/login?returnTo=%2Fusers');
  });

  it('does not accept a session sealed for another client', async () => {
    const cookie = await sessionCookie({ ...cookieApp, clientId: 'another-client' }, { functions: ['EU_UserMaintenance'] });
    const res = await request(app).get('/users').set('Cookie', cookie);
    expect(res.status).toBe(303);
  });

  it('hands the decision to onDenied when the application provides one', async () => {
    const custom = await createPortalAuth({
      issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3904', cookieSecret, allowInsecureRequests: true,
      onDenied: (_req, res, decision) => void res.status(403).json({ custom: decision.reason }),
    });
    const customApp = express().get('/users', custom.requireFunction('EU_UserMaintenance'), (_req, res) => res.send('ok'));
    const res = await request(customApp).get('/users').set('Cookie', await sessionCookie(cookieApp, { functions: [] }));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ custom: 'function_missing' });
  });
});

describe('requireFunction after verifyBearer', () => {
  const audience = 'urn:connect-iam:portal-api';
  let api: express.Express;
  beforeAll(() => {
    api = express();
    const bearer = auth.verifyBearer({ audience });
    api.get('/api/users', bearer, auth.requireFunction('EU_UserMaintenance'), (_req, res) => res.json({ sub: res.locals.accessToken.sub }));
    // The application wrote res.locals.accessToken itself: no verified token, so the session decides.
    api.get('/api/forged', (_req, res, next) => { res.locals.accessToken = { functions: ['EU_UserMaintenance'] }; next(); }, auth.requireFunction('EU_UserMaintenance'), (_req, res) => res.send('opened'));
  });
  const token = (claims: Record<string, unknown>) => idp.signAccessToken(audience, { claims });

  it("lets a token holding the function through, without a session (a service client's token)", async () => {
    const res = await request(api).get('/api/users').set('Authorization', `Bearer ${await token({ sub: 'backoffice', client_id: 'backoffice', functions: ['EU_ECPSFTP', 'EU_UserMaintenance'] })}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'backoffice' });
  });

  it('answers 403 JSON with insufficient_scope, never a redirect, when the token lacks the function', async () => {
    const res = await request(api).get('/api/users').set('Authorization', `Bearer ${await token({ functions: ['EU_ECPSFTP'] })}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ error: 'forbidden', reason: 'function_missing', message: evaluateFunctions(['EU_ECPSFTP'], ['EU_UserMaintenance']).message });
  });

  it('denies a token without a functions claim, or with one that is not a list, whatever the session holds', async () => {
    const cookie = await sessionCookie(cookieApp, { functions: ['EU_UserMaintenance'] });
    for (const functions of [undefined, 'EU_UserMaintenance', [42]]) {
      const res = await request(api).get('/api/users').set('Cookie', cookie).set('Authorization', `Bearer ${await token({ functions })}`);
      expect(res.status).toBe(403);
    }
  });

  it('takes no access token that verifyBearer did not verify', async () => {
    const res = await request(api).get('/api/forged').set('Accept', 'application/json');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/login?returnTo=%2Fapi%2Fforged');
  });

  it('takes no token that another adapter instance verified', async () => {
    const other = await createPortalAuth({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3904', cookieSecret, allowInsecureRequests: true });
    const mixed = express().get('/api/users', other.verifyBearer({ audience }), auth.requireFunction('EU_UserMaintenance'), (_req, res) => res.send('opened'));
    const res = await request(mixed).get('/api/users').set('Authorization', `Bearer ${await token({ functions: ['EU_UserMaintenance'] })}`);
    expect(res.status).toBe(303);
  });

  it('hands a denied token to onDenied when the application provides one', async () => {
    const custom = await createPortalAuth({
      issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3904', cookieSecret, allowInsecureRequests: true,
      onDenied: (_req, res, decision) => void res.status(403).json({ custom: decision.reason }),
    });
    const customApi = express().get('/api/users', custom.verifyBearer({ audience }), custom.requireFunction('EU_UserMaintenance'), (_req, res) => res.send('ok'));
    const res = await request(customApi).get('/api/users').set('Authorization', `Bearer ${await token({ functions: [] })}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ custom: 'function_missing' });
  });
});
