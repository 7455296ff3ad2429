/**
 * Interop (issue 11 §10): oauth4webapi, the low-level OAuth 2 / OpenID Connect library, as the relying party:
 * discovery, code + PKCE S256 with state and nonce, ID token (its claims checked by oauth4webapi, its signature by
 * jose against the published JWKS), userinfo, refresh with rotation, introspection of its own opaque tokens, and
 * RP-initiated logout through the `end_session_endpoint`. No setting is needed beyond the `offline_access` scope (and, in tests only,
 * `allowInsecureRequests` for the plain-http loopback issuer).
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';
import { confirmSignOut, expectSignInPage, type Person } from './support.js';

const REDIRECT_URI = 'http://127.0.0.1:7851/cb';
const POST_LOGOUT = 'http://127.0.0.1:7851/';
const insecure = { [oauth.allowInsecureRequests]: true };

let t: TestIdp;
let as: oauth.AuthorizationServer;
let rp: oauth.Client;
let clientAuth: oauth.ClientAuth;
let person: Person & { id: string };

beforeAll(async () => {
  t = await startTestIdp();
  person = await t.createAccount({ userId: 'o4w.user' });
  const registered = await t.registerClient({ clientId: 'interop-oauth4webapi', redirectUri: REDIRECT_URI, postLogoutRedirectUri: POST_LOGOUT });
  const issuer = new URL(t.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  rp = { client_id: registered.clientId };
  clientAuth = oauth.ClientSecretBasic(registered.clientSecret);
});
afterAll(() => t?.close());

/** An authorization request with fresh PKCE, state and nonce. */
async function authorizationRequest() {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: rp.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid profile email offline_access',
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString();
  return { url, codeVerifier, state, nonce, redirectUri: REDIRECT_URI };
}

describe('oauth4webapi', () => {
  it('finds code + PKCE S256 in discovery', () => {
    expect(as.response_types_supported).toEqual(['code']);
    expect(as.code_challenge_methods_supported).toContain('S256');
    expect(as.end_session_endpoint).toBe(`${t.issuer}/session/end`);
  });

  it('signs in through code + PKCE, validates the ID token, reads userinfo, refreshes with rotation and logs out at the IdP', async () => {
    const ua = new UserAgent();
    const auth = await authorizationRequest();
    const callback = await signInToCallback({ ua, auth, login: person.userId, password: person.password, email: person.email, smtp: t.smtp });
    const params = oauth.validateAuthResponse(as, rp, callback, auth.state);
    const response = await oauth.authorizationCodeGrantRequest(as, rp, clientAuth, params, REDIRECT_URI, auth.codeVerifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, rp, response, { expectedNonce: auth.nonce, requireIdToken: true });
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims).toMatchObject({ iss: t.issuer, sub: person.id, aud: 'interop-oauth4webapi', amr: expect.arrayContaining(['pwd', 'otp', 'mfa']) });
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: t.issuer, audience: rp.client_id });
    expect(protectedHeader.alg).toBe('RS256');
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const userinfo = await oauth.processUserInfoResponse(as, rp, claims.sub, await oauth.userInfoRequest(as, rp, tokens.access_token, insecure));
    expect(userinfo).toMatchObject({ sub: person.id, email: person.email, name: 'Test o4w.user' });

    const refreshed = await oauth.processRefreshTokenResponse(as, rp, await oauth.refreshTokenGrantRequest(as, rp, clientAuth, tokens.refresh_token!, insecure));
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(oauth.getValidatedIdTokenClaims(refreshed)).toMatchObject({ sub: person.id });
    expect(await oauth.processUserInfoResponse(as, rp, claims.sub, await oauth.userInfoRequest(as, rp, refreshed.access_token, insecure))).toMatchObject({ sub: person.id });
    // Introspection (RFC 7662) of its own opaque tokens.
    const introspect = async (token: string) => oauth.processIntrospectionResponse(as, rp, await oauth.introspectionRequest(as, rp, clientAuth, token, insecure));
    expect(await introspect(refreshed.access_token)).toMatchObject({ active: true, client_id: rp.client_id, sub: person.id });
    expect(await introspect(refreshed.refresh_token!)).toMatchObject({ active: true, client_id: rp.client_id, sub: person.id });

    const endSession = new URL(as.end_session_endpoint!);
    endSession.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT, client_id: rp.client_id }).toString();
    const back = await confirmSignOut(ua, await ua.follow(endSession.href), (next) => next.startsWith(POST_LOGOUT));
    expect(back.redirectedTo).toBe(POST_LOGOUT);
    // The refresh token died with the session it belongs to, and a new authorization asks for the password again.
    expect(await introspect(refreshed.refresh_token!)).toEqual({ active: false });
    await expect(oauth.processRefreshTokenResponse(as, rp, await oauth.refreshTokenGrantRequest(as, rp, clientAuth, refreshed.refresh_token!, insecure))).rejects.toMatchObject({ error: 'invalid_grant' });
    expectSignInPage(await ua.follow((await authorizationRequest()).url.href, {}, (next) => next.startsWith(REDIRECT_URI)));
  });
});
