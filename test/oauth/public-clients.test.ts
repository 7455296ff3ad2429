/**
 * Public clients (issue 11 §4): single-page and native apps registered with `token_endpoint_auth_method=none`
 * sign in with code + PKCE and no secret. They get a refresh token only when the operator allowed it and the
 * token request carried a DPoP proof (RFC 9449 §5): the refresh token is then bound to that key, rotates on
 * every use, and is refused without a proof or with another key.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://127.0.0.1:7831/cb';
const OFFLINE = { scope: 'openid profile offline_access' };
const insecure = { execute: [client.allowInsecureRequests] };

let t: TestIdp;
beforeAll(async () => {
  t = await startTestIdp();
});
afterAll(() => t?.close());

/** Registers a public first-party client and returns openid-client's configuration for it (no secret). */
async function publicClient(clientId: string, allowRefresh: boolean): Promise<client.Configuration> {
  await t.idp.clients.create({ clientId, redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true, tokenEndpointAuthMethod: 'none', allowRefresh });
  return client.discovery(new URL(t.issuer), clientId, {}, client.None(), insecure);
}

let n = 0;
/** Signs a fresh account in at `rp` asking for offline_access; redeems the code, with a DPoP proof when given. */
async function signIn(rp: client.Configuration, DPoP?: client.DPoPHandle) {
  const user = await t.createAccount({ userId: `pub.user${++n}` });
  const auth = await startAuthorization(rp, REDIRECT, OFFLINE);
  const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
  const checks = { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce };
  return { user, tokens: await client.authorizationCodeGrant(rp, callback, checks, undefined, DPoP ? { DPoP } : {}) };
}

const errorOf = (promise: Promise<unknown>) => promise.then(() => null, (error: { error?: string }) => error.error ?? String(error));

describe('public clients', () => {
  it('sign in with code + PKCE and no secret, and get no refresh token unless the operator allowed it', async () => {
    const rp = await publicClient('pub-spa', false);
    expect((await t.idp.clients.find('pub-spa'))).toMatchObject({ tokenEndpointAuthMethod: 'none', allowRefresh: false });
    const { user, tokens } = await signIn(rp);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect((await client.fetchUserInfo(rp, tokens.access_token, user.id)).sub).toBe(user.id);
    expect(tokens.refresh_token).toBeUndefined();
    // Not even with DPoP: the client is not registered for the refresh_token grant.
    const bound = await signIn(rp, client.getDPoPHandle(rp, await client.randomDPoPKeyPair()));
    expect(bound.tokens.token_type?.toLowerCase()).toBe('dpop');
    expect(bound.tokens.refresh_token).toBeUndefined();
  });

  it('get a refresh token only with a DPoP proof when allowed; it is bound to that key and rotates', async () => {
    const rp = await publicClient('pub-native', true);
    // Allowed, but a plain bearer token request: no refresh token.
    expect((await signIn(rp)).tokens.refresh_token).toBeUndefined();

    const DPoP = client.getDPoPHandle(rp, await client.randomDPoPKeyPair());
    const { tokens } = await signIn(rp, DPoP);
    expect(tokens.token_type?.toLowerCase()).toBe('dpop');
    expect(tokens.refresh_token).toBeTruthy();

    // Without a proof, or with another key, the refresh token is refused (RFC 9449 §5).
    expect(await errorOf(client.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_grant');
    const other = client.getDPoPHandle(rp, await client.randomDPoPKeyPair());
    expect(await errorOf(client.refreshTokenGrant(rp, tokens.refresh_token!, undefined, { DPoP: other }))).toBe('invalid_grant');

    // With the key it is bound to it works and rotates; the old one is then spent.
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await client.refreshTokenGrant(rp, refreshed.refresh_token!, undefined, { DPoP })).access_token).toBeTruthy();
  });
});
