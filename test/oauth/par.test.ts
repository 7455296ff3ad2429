/**
 * Pushed authorization requests (RFC 9126) work end to end with openid-client: discovery advertises the endpoint
 * (optional, not required), a confidential client pushes its parameters and gets a `request_uri`, the person signs
 * in through the short authorization URL, and the code redeems. Pushing with a DPoP proof binds the code to the
 * key (RFC 9449 §10.1), so the tokens are DPoP-bound.
 */
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, type StartedAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7311/auth/callback';
const PORTAL_API = 'urn:connect-iam:portal-api';

let t: TestIdp;
let rp: client.Configuration;
let user: Awaited<ReturnType<TestIdp['createAccount']>>;
const ua = new UserAgent();

/** Pushes an authorization request (fresh PKCE, state and nonce) and returns the short authorization URL. */
async function pushed(extra: Record<string, string> = {}, options?: client.DPoPOptions): Promise<StartedAuthorization> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithPAR(rp, {
    redirect_uri: REDIRECT, scope: 'openid profile email organization', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256', ...extra,
  }, options);
  return { url, codeVerifier, state, nonce, redirectUri: REDIRECT };
}

const redeem = (auth: StartedAuthorization, callback: URL, parameters?: Record<string, string>, options?: client.DPoPOptions) =>
  client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce }, parameters, options);

beforeAll(async () => {
  t = await startTestIdp();
  ({ rp } = await t.registerClient({ clientId: 'par-portal', redirectUri: REDIRECT }));
  user = await t.createAccount({ userId: 'par.user' });
});
afterAll(() => t?.close());

describe('pushed authorization requests (RFC 9126)', () => {
  it('discovery advertises the endpoint and does not require it', () => {
    const metadata = rp.serverMetadata();
    expect(metadata.pushed_authorization_request_endpoint).toBe(`${t.issuer}/request`);
    expect(metadata.require_pushed_authorization_requests ?? false).toBe(false); // absent means false (RFC 9126 §5)
  });

  it('signs in through a pushed request: the authorization URL carries only client_id and request_uri', async () => {
    const auth = await pushed();
    expect([...auth.url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(auth.url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const callback = await signInToCallback({ ua, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const tokens = await redeem(auth, callback);
    expect(tokens.claims()).toMatchObject({ sub: user.id, aud: 'par-portal', nonce: auth.nonce });
  });

  it('uses a request_uri once', async () => {
    const auth = await pushed();
    const first = await ua.follow(auth.url.toString(), {}, (next) => next.startsWith(REDIRECT));
    expect(first.redirectedTo).toBeDefined();
    const again = await ua.follow(auth.url.toString(), {}, (next) => next.startsWith(REDIRECT));
    const refused = new URL(again.redirectedTo!).searchParams;
    expect(refused.get('error')).toBe('invalid_request_uri');
    expect(refused.has('code')).toBe(false);
  });

  it('refuses a push without client authentication', async () => {
    const res = await fetch(rp.serverMetadata().pushed_authorization_request_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'par-portal', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('a push with a DPoP proof binds the code, and so the access token, to the key (RFC 9449 §10.1)', async () => {
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const auth = await pushed({ resource: PORTAL_API }, { DPoP: client.getDPoPHandle(rp, keyPair) });
    const first = await ua.follow(auth.url.toString(), {}, (next) => next.startsWith(REDIRECT));
    const tokens = await redeem(auth, new URL(first.redirectedTo!), { resource: PORTAL_API }, { DPoP: client.getDPoPHandle(rp, keyPair) });
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: expect.any(String) });

    // The same code flow, redeemed with another key, is refused: the pushed proof fixed the key.
    const other = await client.randomDPoPKeyPair('ES256');
    const auth2 = await pushed({ resource: PORTAL_API }, { DPoP: client.getDPoPHandle(rp, keyPair) });
    const second = await ua.follow(auth2.url.toString(), {}, (next) => next.startsWith(REDIRECT));
    await expect(redeem(auth2, new URL(second.redirectedTo!), { resource: PORTAL_API }, { DPoP: client.getDPoPHandle(rp, other) }))
      .rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
