import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, browser, ISSUER, latestCode, locationOf, PASSWORD, roundRobin, startIdp, textOf, type IdpFixture } from './fixture.js';
import { openSignIn, payloadOf, redeem, signIn, submitForm } from './flow.js';

const A = { clientId: 'org-portal-a', redirectUri: 'http://localhost:7401/cb' };
const B = { clientId: 'org-portal-b', redirectUri: 'http://localhost:7402/cb' };
const PORTAL_API = 'urn:connect-iam:portal-api';

describe('the acting organization of an account with several memberships', () => {
  let f: IdpFixture;
  let secrets: Record<string, string>;
  let orgA: string;
  let orgB: string;
  let user: { id: string; userId: string; email: string };
  const b = () => browser(f);

  beforeAll(async () => {
    f = await startIdp();
    secrets = { [A.clientId]: await f.client(A), [B.clientId]: await f.client(B) };
    orgA = await f.organization('Alpha Securities', ['B04001']);
    orgB = await f.organization('Beta Clearing', ['B04002', 'CBETA']);
    user = await f.account('two.orgs', orgA, [{ organizationId: orgB, functions: ['EU_ECPSFTP', 'EU_SettlementDepository'] }]);
  });
  afterAll(() => f?.close());

  it('offers a radio button per organization, labelled by name and participant IDs, after both factors', async () => {
    const agent = b();
    const { callback } = await signIn(f, agent, { ...A, login: user.userId, email: user.email, organization: { id: orgA, label: 'Alpha Securities (B04001)' } });
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  it('puts the chosen organization in the ID token and userinfo, and keeps it for SSO into a second client', async () => {
    const agent = b();
    const organization = { id: orgB, label: 'Beta Clearing (B04002, CBETA)' };
    const first = await signIn(f, agent, { ...A, login: user.userId, email: user.email, organization });
    const tokens = await redeem(agent, { ...A, secret: secrets[A.clientId]!, callback: first.callback, verifier: first.verifier });
    expect(tokens.status).toBe(200);
    const idToken = payloadOf(tokens.body.id_token);
    const expected = { id: orgB, name: 'Beta Clearing', participant_ids: ['B04002', 'CBETA'] };
    expect(idToken.organization).toEqual(expected);
    expect(idToken.functions).toEqual(['EU_ECPSFTP', 'EU_SettlementDepository']);
    expect(idToken.amr).toEqual(['pwd', 'otp', 'mfa']);
    const userinfo = await agent.get('/me').set('Authorization', `Bearer ${tokens.body.access_token}`);
    expect(userinfo.status).toBe(200);
    expect(userinfo.body).toMatchObject({ sub: user.id, organization: expected, functions: ['EU_ECPSFTP', 'EU_SettlementDepository'], email_verified: true });

    const mailsBefore = f.mails.length;
    const { url, verifier } = authorizationUrl(B.clientId, B.redirectUri);
    const sso = await agent.get(url);
    expect(sso.status).toBe(303);
    const callback = new URL(sso.headers.location!);
    expect(callback.origin).toBe('http://localhost:7402');
    const second = await redeem(agent, { ...B, secret: secrets[B.clientId]!, callback, verifier });
    expect(payloadOf(second.body.id_token).organization).toEqual(expected);
    expect(f.mails.length).toBe(mailsBefore);
  });

  it('issues a JWT access token for the portal API that verifies against the JWKS and carries the organization', async () => {
    const agent = b();
    const organization = { id: orgA, label: 'Alpha Securities (B04001)' };
    const { callback, verifier } = await signIn(f, agent, { ...A, login: user.userId, email: user.email, organization, extra: { resource: PORTAL_API } });
    const tokens = await redeem(agent, { ...A, secret: secrets[A.clientId]!, callback, verifier, resource: PORTAL_API });
    expect(tokens.status).toBe(200);
    const jwks = createLocalJWKSet((await agent.get('/jwks')).body);
    const { payload, protectedHeader } = await jwtVerify(tokens.body.access_token, jwks, { issuer: ISSUER, audience: PORTAL_API, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: user.id, client_id: A.clientId, scope: 'organization', functions: ['EU_UserMaintenance'] });
    expect(payload.organization).toEqual({ id: orgA, name: 'Alpha Securities', participant_ids: ['B04001'] });
    const atUserinfo = await agent.get('/me').set('Authorization', `Bearer ${tokens.body.access_token}`);
    expect(atUserinfo.status).toBe(401);
  });

  it('refuses an organization the account does not belong to', async () => {
    const agent = b();
    const stranger = await f.organization('Gamma Bank', ['B04003']);
    const { page } = await openSignIn(agent, A.clientId, A.redirectUri);
    const codePage = await agent.get(locationOf(await submitForm(agent, page.text, 'User ID or email', { login: user.userId, password: PASSWORD })));
    const organizationPage = await agent.get(locationOf(await submitForm(agent, codePage.text, 'One-time code', { code: latestCode(f, user.email) })));
    const res = await submitForm(agent, organizationPage.text, 'Alpha Securities (B04001)', { organizationId: stranger });
    expect(res.status).toBe(400);
    expect(textOf(res.text)).toContain('Choose one of your organizations.');
  });

  it('stops giving claims for an account once it is suspended', async () => {
    const agent = b();
    const single = await f.account('soon.suspended', orgA);
    const { callback, verifier } = await signIn(f, agent, { ...A, login: single.userId, email: single.email });
    const tokens = await redeem(agent, { ...A, secret: secrets[A.clientId]!, callback, verifier });
    expect(payloadOf(tokens.body.id_token).organization).toEqual({ id: orgA, name: 'Alpha Securities', participant_ids: ['B04001'] });
    await f.identity.stores.accounts.setStatus(single.id, 'suspended', new Date());
    const userinfo = await agent.get('/me').set('Authorization', `Bearer ${tokens.body.access_token}`);
    expect(userinfo.status).toBe(401);
  });
});

describe('sign-in across instances', () => {
  let f: IdpFixture;

  beforeAll(async () => {
    f = await startIdp();
  });
  afterAll(() => f?.close());

  it('keeps the sign-in progress and the acting organization when every request goes to another instance', async () => {
    const secret = await f.client(A);
    const orgA = await f.organization('Delta Futures', ['B04101']);
    const orgB = await f.organization('Epsilon Bank', ['B04102']);
    const user = await f.account('many.instances', orgA, [{ organizationId: orgB, functions: ['EU_ECPReportDownload'] }]);
    const agent = browser(roundRobin([f.app, await f.instance(), await f.instance()]));
    const { callback, verifier } = await signIn(f, agent, { ...A, login: user.userId, email: user.email, organization: { id: orgB, label: 'Epsilon Bank (B04102)' } });
    const tokens = await redeem(agent, { ...A, secret, callback, verifier });
    expect(payloadOf(tokens.body.id_token).organization).toEqual({ id: orgB, name: 'Epsilon Bank', participant_ids: ['B04102'] });
    const userinfo = await agent.get('/me').set('Authorization', `Bearer ${tokens.body.access_token}`);
    expect(userinfo.body.functions).toEqual(['EU_ECPReportDownload']);
  });
});
