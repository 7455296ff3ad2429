import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const PORTAL_A = 'http://localhost:7001/auth/callback';
const PORTAL_B = 'http://localhost:7002/auth/callback';

describe('sign-in with password and emailed code through a standard relying party', () => {
  let t: TestIdp;
  let a: Awaited<ReturnType<TestIdp['registerClient']>>;
  let b: Awaited<ReturnType<TestIdp['registerClient']>>;
  let user: Awaited<ReturnType<TestIdp['createAccount']>>;
  const ua = new UserAgent();

  beforeAll(async () => {
    t = await startTestIdp();
    a = await t.registerClient({ clientId: 'portal-a', redirectUri: PORTAL_A, postLogoutRedirectUri: 'http://localhost:7001/' });
    b = await t.registerClient({ clientId: 'portal-b', redirectUri: PORTAL_B });
    user = await t.createAccount({ userId: 'carol.test', functions: ['EU_UserMaintenance', 'EU_ECPReportDownload'] });
  });
  afterAll(() => t?.close());

  it('completes code + PKCE + nonce, validates the ID token and returns the acting organization in claims and userinfo', async () => {
    const auth = await startAuthorization(a.rp, PORTAL_A);
    const callback = await signInToCallback({ ua, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const tokens = await redeem(a.rp, callback, auth);
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user.id);
    expect(claims.iss).toBe(t.issuer);
    expect(claims.aud).toBe('portal-a');
    expect(claims.nonce).toBe(auth.nonce);
    expect(claims.name).toBe('Test carol.test');
    expect(claims.email).toBe(user.email);
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));
    expect(claims.organization).toEqual({ id: await t.organization(), name: 'Test Securities Limited', participant_ids: ['B09999', 'CTEST'] });
    expect(claims.functions).toEqual(['EU_UserMaintenance', 'EU_ECPReportDownload']);

    const userinfo = await client.fetchUserInfo(a.rp, tokens.access_token, user.id);
    expect(userinfo).toMatchObject({ sub: user.id, name: 'Test carol.test', email: user.email, functions: ['EU_UserMaintenance', 'EU_ECPReportDownload'] });
    expect(userinfo.organization).toEqual(claims.organization);
  });

  it('signs the same person in to a second client without a second sign-in or a second code (SSO)', async () => {
    const mailsBefore = t.smtp.messages.length;
    const auth = await startAuthorization(b.rp, PORTAL_B);
    const first = await ua.follow(auth.url.toString(), {}, (next) => next.startsWith(PORTAL_B));
    expect(first.redirectedTo).toBeDefined();
    const tokens = await redeem(b.rp, new URL(first.redirectedTo!), auth);
    expect(tokens.claims()!.sub).toBe(user.id);
    expect(tokens.claims()!.aud).toBe('portal-b');
    expect(t.smtp.messages.length).toBe(mailsBefore);
  });

  it('issues JWT access tokens for the portal API that verify against the published JWKS (RFC 9068)', async () => {
    const auth = await startAuthorization(a.rp, PORTAL_A, { resource: 'urn:connect-iam:portal-api' });
    const first = await ua.follow(auth.url.toString(), {}, (next) => next.startsWith(PORTAL_A));
    const tokens = await client.authorizationCodeGrant(a.rp, new URL(first.redirectedTo!), { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce }, { resource: 'urn:connect-iam:portal-api' });
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    const jwks = createRemoteJWKSet(new URL(a.rp.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: t.issuer, audience: 'urn:connect-iam:portal-api', typ: 'at+jwt' });
    expect(payload.sub).toBe(user.id);
    expect(payload.client_id).toBe('portal-a');
  });

  it('ends the IdP session on RP-initiated logout, so the next authorization asks for sign-in again', async () => {
    const auth = await startAuthorization(a.rp, PORTAL_A);
    const first = await ua.follow(auth.url.toString(), {}, (next) => next.startsWith(PORTAL_A));
    const tokens = await redeem(a.rp, new URL(first.redirectedTo!), auth);
    const endSession = client.buildEndSessionUrl(a.rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://localhost:7001/' });
    const logoutPage = await ua.follow(endSession.toString());
    expect(logoutPage.status).toBe(200);
    const after = await ua.submit(logoutPage, {}, { button: 'Sign out', stopAt: (next) => next.startsWith('http://localhost:7001/') });
    expect(after.redirectedTo).toBe('http://localhost:7001/');

    const again = await startAuthorization(a.rp, PORTAL_A);
    const page = await ua.follow(again.url.toString(), {}, (next) => next.startsWith(PORTAL_A));
    expect(page.redirectedTo).toBeUndefined();
    expect(textOf(page.html)).toContain('User ID or email');
  });
});
