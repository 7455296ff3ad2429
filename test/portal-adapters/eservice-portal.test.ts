/**
 * The eService portal demo: signed-out and signed-in home pages, a route behind `EU_UserMaintenance`,
 * and an API behind a bearer access token.
 */
import type express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEServicePortal } from '../../examples/eservice-portal/app.js';
import { sessionCookie } from './support/cookies.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

const cookieSecret = 'eservice-test-cookie-secret-32-characters';
let idp: TestIssuer;
let app: express.Express;
const signedIn = (functions: string[]) => sessionCookie({ cookieSecret, clientId: idp.clientId, cookieName: 'eservice_session' }, { functions });

beforeAll(async () => {
  idp = await startTestIssuer();
  app = await createEServicePortal({
    issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3911', cookieSecret,
    allowInsecureRequests: true, ecpUrl: 'http://localhost:3912',
  });
});
afterAll(() => idp.close());

describe('eService portal', () => {
  it('offers a Sign in button when signed out', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('href="/auth/login">Sign in</a>');
    expect(res.text).not.toContain('Sign out');
  });

  it('shows the person, the acting organization with its participant IDs, their eServices and ECP', async () => {
    const res = await request(app).get('/').set('Cookie', await signedIn(['EU_UserMaintenance', 'EU_SettlementDepository', 'EU_ECPSFTP']));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Jamie Chan');
    expect(res.text).toContain('jamie@broker.example');
    expect(res.text).toContain('Example Securities');
    expect(res.text).toContain('<span class="code">B01234</span>, <span class="code">CXYZ</span>');
    expect(res.text).toContain('<a href="/eservices/user-maintenance">Delegated Administrator Application / Maintenance</a>');
    expect(res.text).toContain('Early Buy-in Request');
    expect(res.text).not.toContain('Change of Company Name');
    expect(res.text).toContain('href="http://localhost:3912">Go to ECP</a>');
    expect(res.text).toMatch(/<form method="post" action="\/auth\/logout"[^>]*>\s*<input type="hidden" name="_csrf" value="csrf-token-for-tests">/);
  });

  it('opens user maintenance with EU_UserMaintenance', async () => {
    const res = await request(app).get('/eservices/user-maintenance').set('Cookie', await signedIn(['EU_UserMaintenance']));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Smartcard Maintenance for User and DA');
  });

  it("refuses user maintenance without EU_UserMaintenance, on the portal's own page with the policy's message", async () => {
    const res = await request(app).get('/eservices/user-maintenance').set('Cookie', await signedIn(['EU_SettlementDepository']));
    expect(res.status).toBe(403);
    expect(res.text).toContain('<h1>Access denied</h1>');
    expect(res.text).toContain('EU_UserMaintenance (User maintenance)');
    expect(res.text).toContain('Sign out');
  });

  it('returns the claims of a valid access token from /api/profile', async () => {
    const token = await idp.signAccessToken('urn:connect-iam:portal-api', { claims: { sub: 'account-9' } });
    const res = await request(app).get('/api/profile').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.sub).toBe('account-9');
  });

  it('refuses /api/profile without a valid token', async () => {
    const token = await idp.signAccessToken('urn:connect-iam:admin-api');
    const res = await request(app).get('/api/profile').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('answers an unknown page with a 404 page', async () => {
    const res = await request(app).get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.text).toContain('Page not found');
  });
});
