/**
 * `requireFunction` on a route: allowed with the function, 403 with the policy's message without it,
 * and always 403 for a name the catalogue does not know (deny by default).
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
