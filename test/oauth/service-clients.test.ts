/**
 * Machine to machine (issue 11 §2): the operator registers a service client for an organization and functions
 * in the console; its `client_credentials` access token is a portal API JWT (RFC 9068) with `sub` = its
 * client ID, `client_id`, the `organization` claim and the functions; portal-adapters' `verifyBearer`
 * and `requireFunction` accept it unchanged; it takes no place in the organization's 20-account quota.
 */
import express from 'express';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_QUOTA_PER_ORGANIZATION, evaluateFunctions } from '../../policies/index.js';
import { createPortalAuth } from '../../portal-adapters/index.js';
import { startTestConsole, type TestConsole } from '../admin-console/console-harness.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';

const PORTAL_API = 'urn:connect-iam:portal-api';

let t: TestIdp;
let c: TestConsole;
let operator: { id: string; userId: string };
let organizationId: string;

beforeAll(async () => {
  t = await startTestIdp();
  c = await startTestConsole(t);
  organizationId = await t.newOrganization();
  operator = await t.createAccount({ userId: 'svc.operator', functions: [] });
  await t.idp.identity.accounts.setOperator(operator.id, true, 'test');
});
afterAll(async () => {
  await c?.close();
  await t?.close();
});

const post = async (path: string, form: Record<string, string>) => request(c.app).post(path).set('Cookie', await c.cookieFor(operator, 'tok')).type('form').send({ _csrf: 'tok', ...form });

/** Registers a service client in the console; returns its secret. */
async function registerInConsole(clientId: string, functions: string): Promise<string> {
  const organization = (await t.idp.identity.organizations.getOrganization(organizationId)).participantIds[0]!;
  const res = await post('/operator/applications/service', { clientId, clientName: 'Back office', organization, functions });
  expect(res.status).toBe(201);
  return (await t.idp.clients.find(clientId))!.clientSecret!;
}

const rpFor = (clientId: string, secret: string) => client.discovery(new URL(t.issuer), clientId, secret, undefined, { execute: [client.allowInsecureRequests] });

describe('service clients (client_credentials)', () => {
  it('are registered in the console for an organization and catalogued functions, and audited', async () => {
    await registerInConsole('svc-backoffice', 'EU_ECPSFTP\r\nEU_ECPReportDownload');
    expect((await t.idp.clients.find('svc-backoffice'))).toMatchObject({ service: { organizationId, functions: ['EU_ECPSFTP', 'EU_ECPReportDownload'] }, redirectUris: [], firstParty: false });
    const [event] = await t.idp.identity.stores.audit.list({ type: 'client.created', organizationId });
    expect(event).toMatchObject({ actor: `operator:${operator.id}`, data: { clientId: 'svc-backoffice', service: true, organization: organizationId, functions: ['EU_ECPSFTP', 'EU_ECPReportDownload'] } });
    expect((await request(c.app).get('/operator/applications').set('Cookie', await c.cookieFor(operator, 'tok'))).text).toContain('service: Test Organization');
  });

  it('refuses an unknown function, an unknown organization and a UUID-shaped client ID with field errors, storing nothing', async () => {
    const unknown = await post('/operator/applications/service', { clientId: 'svc-bad', organization: 'NOPE0', functions: 'EU_Bogus' });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('id="service-functions-error"');
    expect(unknown.text).toContain('id="service-organization-error"');
    const uuid = await post('/operator/applications/service', { clientId: '3f0c1f9e-2b8e-4c47-9d62-3a1a2b3c4d5e', organization: organizationId, functions: 'EU_ECPSFTP' });
    expect(uuid.status).toBe(400);
    expect(uuid.text).toContain('id="service-clientId-error"');
    expect(await t.idp.clients.find('svc-bad')).toBeNull();
  });

  it('get a portal API JWT whose sub is the client ID, with client_id, the organization and the functions', async () => {
    const secret = (await t.idp.clients.find('svc-backoffice'))!.clientSecret!;
    const tokens = await client.clientCredentialsGrant(await rpFor('svc-backoffice', secret), {});
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'svc-backoffice', client_id: 'svc-backoffice', aud: PORTAL_API, functions: ['EU_ECPSFTP', 'EU_ECPReportDownload'] });
    expect(payload.organization).toEqual({ id: organizationId, name: expect.stringMatching(/^Test Organization/), participant_ids: [expect.any(String)] });
    expect(tokens.refresh_token).toBeUndefined();
    expect(payload.amr).toBeUndefined();

    // It cannot sign people in: the authorization endpoint refuses it.
    const res = await fetch(`${t.issuer}/auth?client_id=svc-backoffice&response_type=code&scope=openid&redirect_uri=http://localhost/cb&code_challenge=x&code_challenge_method=S256`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
  });

  it('is accepted by portal-adapters’ verifyBearer and requireFunction unchanged: its functions open routes, a missing one answers 403', async () => {
    const portal = await t.registerClient({ clientId: 'svc-test-api', redirectUri: 'http://localhost:7821/auth/callback' });
    const auth = await createPortalAuth({ issuer: t.issuer, clientId: portal.clientId, clientSecret: portal.clientSecret, baseUrl: 'http://localhost:7821', cookieSecret: 'service-client-test-cookie-secret-32', allowInsecureRequests: true });
    const app = express();
    const bearer = auth.verifyBearer({ audience: PORTAL_API });
    const answer: express.RequestHandler = (_req, res) => {
      const token = res.locals.accessToken as { sub: string; organization: { id: string } };
      res.json({ sub: token.sub, organization: token.organization.id });
    };
    app.get('/api/files', bearer, auth.requireFunction('EU_ECPSFTP'), answer);
    app.get('/api/admin', bearer, auth.requireFunction('EU_ECPAdmin'), answer);
    const secret = (await t.idp.clients.find('svc-backoffice'))!.clientSecret!;
    const { access_token } = await client.clientCredentialsGrant(await rpFor('svc-backoffice', secret), {});
    const files = await request(app).get('/api/files').set('Authorization', `Bearer ${access_token}`);
    expect(files.status).toBe(200);
    expect(files.body).toEqual({ sub: 'svc-backoffice', organization: organizationId });
    const admin = await request(app).get('/api/admin').set('Authorization', `Bearer ${access_token}`);
    expect(admin.status).toBe(403);
    expect(admin.headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    expect(admin.body).toEqual({ error: 'forbidden', reason: 'function_missing', message: evaluateFunctions(['EU_ECPSFTP'], ['EU_ECPAdmin']).message });
  });

  it('count towards nothing in the 20-account quota', async () => {
    const own = await t.newOrganization();
    const participantId = (await t.idp.identity.organizations.getOrganization(own)).participantIds[0]!;
    expect((await post('/operator/applications/service', { clientId: 'svc-quota', organization: participantId, functions: 'EU_ECPSFTP' })).status).toBe(201);
    for (let i = 0; i < ACCOUNT_QUOTA_PER_ORGANIZATION; i++) await t.createAccount({ userId: `svc.quota.${i}`, organization: own });
    expect(await t.idp.identity.accounts.countInOrganization(own)).toBe(ACCOUNT_QUOTA_PER_ORGANIZATION);
    await expect(t.createAccount({ userId: 'svc.quota.extra', organization: own })).rejects.toMatchObject({ code: 'quota_exceeded' });
  });
});
