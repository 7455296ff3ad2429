/**
 * Access tokens carry the sign-in's `auth_time` and `amr` (issue 11 §8, RFC 9068 §2.2.1), so a portal API can
 * demand `swk` (an authenticator app) for a sensitive action from the JWT alone, without calling userinfo.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7851/cb';
const PORTAL_API = 'urn:connect-iam:portal-api';

let t: TestIdp;
let portal: Awaited<ReturnType<TestIdp['registerClient']>>;
beforeAll(async () => {
  t = await startTestIdp();
  portal = await t.registerClient({ clientId: 'claims-portal', redirectUri: REDIRECT });
});
afterAll(() => t?.close());

describe('portal API access tokens', () => {
  it('carry auth_time and amr of the sign-in, also after a refresh', async () => {
    const user = await t.createAccount({ userId: 'claims.user' });
    const auth = await startAuthorization(portal.rp, REDIRECT, { scope: 'openid organization offline_access', resource: PORTAL_API });
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const tokens = await client.authorizationCodeGrant(portal.rp, callback, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce }, { resource: PORTAL_API });
    const jwks = createRemoteJWKSet(new URL(portal.rp.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: t.issuer, audience: PORTAL_API, typ: 'at+jwt' });
    const idToken = tokens.claims()!;
    expect(payload.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(payload.amr).not.toContain('swk'); // an emailed code: an API that demands the app refuses this token
    expect(payload.auth_time).toBe(idToken.auth_time);
    expect(payload.acr).toBeUndefined(); // no acr is defined
    expect(payload.functions).toEqual(['EU_UserMaintenance']);

    const refreshed = await client.refreshTokenGrant(portal.rp, tokens.refresh_token!, { resource: PORTAL_API });
    const { payload: after } = await jwtVerify(refreshed.access_token, jwks, { issuer: t.issuer, audience: PORTAL_API, typ: 'at+jwt' });
    expect(after.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(after.auth_time).toBe(idToken.auth_time);
  });
});
