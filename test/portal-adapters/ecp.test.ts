/**
 * The ECP demo app renders what `evaluateEcpAccess` decides for a signed-in session: folders for web
 * functions, an SFTP-only page for EU_ECPSFTP alone, and "Error 2000" for every other account without an ECP web
 * function (administration rights only, or no ECP function at all: the seed FAQ's rule).
 */
import type express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEcp, ERROR_2000_EXPLANATION } from '../../examples/ecp/app.js';
import { evaluateEcpAccess } from '../../policies/index.js';
import { sessionCookie } from './support/cookies.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

const cookieSecret = 'ecp-test-cookie-secret-of-32-characters!';
let idp: TestIssuer;
let app: express.Express;
const signedIn = (functions: string[], name = 'Jamie Chan') =>
  sessionCookie({ cookieSecret, clientId: idp.clientId, cookieName: 'ecp_session' }, { functions, name });
const escaped = (text: string) => text.replace(/'/g, '&#39;');

beforeAll(async () => {
  idp = await startTestIssuer();
  app = await createEcp({
    issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3912', cookieSecret,
    allowInsecureRequests: true, eservicePortalUrl: 'http://localhost:3911',
  });
});
afterAll(() => idp.close());

describe('ECP', () => {
  it('sends a signed-out visitor to sign in', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/login?returnTo=%2F');
  });

  it('shows the folders the web functions open', async () => {
    const res = await request(app).get('/').set('Cookie', await signedIn(['EU_ECPClearingSubmission', 'EU_ECPReportDownload', 'EU_ECPSFTP']));
    expect(res.status).toBe(200);
    for (const folder of ['Clearing Submission', 'Submission Acknowledgements', 'Daily Reports', 'Monthly Statements']) {
      expect(res.text).toContain(`<li>${folder}</li>`);
    }
    expect(res.text).toContain('acting for Example Securities');
    expect(res.text).toContain('name="_csrf" value="csrf-token-for-tests"');
  });

  it('refuses an account with only ECP administration rights with "Error 2000"', async () => {
    const res = await request(app).get('/').set('Cookie', await signedIn(['EU_ECPAdmin', 'EU_UserMaintenance']));
    expect(res.status).toBe(403);
    expect(res.text).toContain('<title>Error 2000 · ECP</title>');
    expect(res.text).toContain('<h1>Error 2000</h1>');
    expect(res.text).toContain(escaped(evaluateEcpAccess(['EU_ECPAdmin']).message));
    expect(res.text).toContain('Administrators cannot use ECP');
    expect(res.text).toContain(escaped(ERROR_2000_EXPLANATION));
    expect(res.text).toContain('delegated administrator');
  });

  it('tells an EU_ECPSFTP-only account that its access is SFTP only', async () => {
    const res = await request(app).get('/').set('Cookie', await signedIn(['EU_ECPSFTP']));
    expect(res.status).toBe(403);
    expect(res.text).toContain('<h1>SFTP access only</h1>');
    expect(res.text).toContain('through SFTP only');
    expect(res.text).not.toContain('Error 2000');
  });

  it.each([
    ['non-ECP functions only', ['EU_SettlementDepository', 'EU_UserMaintenance']],
    ['no function at all', []],
  ])('shows an account with %s the "Error 2000" page with its explanation', async (_case, functions) => {
    const res = await request(app).get('/').set('Cookie', await signedIn(functions));
    expect(res.status).toBe(403);
    expect(res.text).toContain('<title>Error 2000 · ECP</title>');
    expect(res.text).toContain('<h1>Error 2000</h1>');
    expect(res.text).toContain(escaped(ERROR_2000_EXPLANATION));
    expect(res.text).toContain(escaped(evaluateEcpAccess(functions).message));
    expect(res.text).toContain('holds no ECP function');
    expect(res.text).not.toContain('No access to ECP');
  });

  it('escapes what it shows and sends security headers', async () => {
    const res = await request(app).get('/').set('Cookie', await signedIn(['EU_ECPReportDownload'], '<script>alert(1)</script>'));
    expect(res.text).not.toContain('<script>alert(1)</script>');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.headers['content-security-policy']).toContain(`form-action 'self' ${idp.issuer}`);
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });
});
