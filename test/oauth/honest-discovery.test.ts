/**
 * Honest discovery (issue 11 §6): every value of `token_endpoint_auth_methods_supported`,
 * `grant_types_supported` and `response_types_supported` in the discovery document works end to end, with
 * openid-client as the relying party and a client registered through the client store as the operator would.
 * A value listed with no way to use it fails here; `client_secret_jwt` (which cannot be registered) is not listed.
 */
import { exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7821/cb';
const insecure = { execute: [client.allowInsecureRequests] };

let t: TestIdp;
let metadata: client.ServerMetadata;

beforeAll(async () => {
  t = await startTestIdp();
  metadata = (await client.discovery(new URL(t.issuer), 'probe', undefined, undefined, insecure)).serverMetadata();
});
afterAll(() => t?.close());

let n = 0;
/** Signs a fresh account in at `rp` (code + PKCE) and redeems the code; `scope` default `openid profile`. */
async function signIn(rp: client.Configuration, extra: Record<string, string> = {}, options?: { DPoP?: client.DPoPHandle }) {
  const user = await t.createAccount({ userId: `disc.user${++n}` });
  const auth = await startAuthorization(rp, REDIRECT, { scope: 'openid profile', ...extra });
  const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
  const tokens = options?.DPoP
    ? await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce }, undefined, { DPoP: options.DPoP })
    : await redeem(rp, callback, auth);
  return { user, tokens };
}

/** Registers a client that authenticates with `method` and returns openid-client's configuration for it. */
const registrations: Record<string, (clientId: string) => Promise<client.Configuration>> = {
  async client_secret_basic(clientId) {
    const created = await t.idp.clients.create({ clientId, redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true });
    return client.discovery(new URL(t.issuer), clientId, {}, client.ClientSecretBasic(created.clientSecret), insecure);
  },
  async client_secret_post(clientId) {
    const created = await t.idp.clients.create({ clientId, redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true, tokenEndpointAuthMethod: 'client_secret_post' });
    return client.discovery(new URL(t.issuer), clientId, {}, client.ClientSecretPost(created.clientSecret), insecure);
  },
  async private_key_jwt(clientId) {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: `${clientId}-1`, alg: 'ES256', use: 'sig' };
    await t.idp.clients.create({ clientId, redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true, tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
    return client.discovery(new URL(t.issuer), clientId, {}, client.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }), insecure);
  },
  async none(clientId) {
    await t.idp.clients.create({ clientId, redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true, tokenEndpointAuthMethod: 'none' });
    return client.discovery(new URL(t.issuer), clientId, {}, client.None(), insecure);
  },
};

describe('honest discovery', () => {
  it('lists exactly the client authentication methods a client can be registered for, and each signs someone in end to end', async () => {
    const methods = metadata.token_endpoint_auth_methods_supported ?? [];
    expect(methods).not.toContain('client_secret_jwt');
    expect([...methods].sort()).toEqual(Object.keys(registrations).sort());
    for (const method of methods) {
      const rp = await registrations[method]!(`disc-${method.replaceAll('_', '-')}`);
      const { user, tokens } = await signIn(rp);
      expect(tokens.claims()?.sub, method).toBe(user.id);
      expect((await client.fetchUserInfo(rp, tokens.access_token, user.id)).sub, method).toBe(user.id);
    }
    // Client assertions are signed with asymmetric keys only: no HMAC without client_secret_jwt.
    expect(metadata.token_endpoint_auth_signing_alg_values_supported?.some((alg) => alg.startsWith('HS'))).toBe(false);
  });

  it('lists only response type code and the grant types a client can be registered for, and each one issues tokens (with private_key_jwt clients)', async () => {
    expect(metadata.response_types_supported).toEqual(['code']);
    const grants = metadata.grant_types_supported ?? [];
    const used: string[] = [];
    const rp = await registrations.private_key_jwt!('disc-grants');
    const { tokens } = await signIn(rp, { scope: 'openid profile offline_access' });
    expect(tokens.id_token).toBeTruthy();
    used.push('authorization_code');
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    used.push('refresh_token');
    // A back-office system authenticating with its private key (RFC 7523 §2.2) gets a client_credentials token.
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'svc-1' };
    const service = { organizationId: await t.newOrganization(), functions: ['EU_ECPSFTP'] };
    await t.idp.clients.create({ clientId: 'disc-service', redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service, tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
    const m2m = await client.discovery(new URL(t.issuer), 'disc-service', {}, client.PrivateKeyJwt({ key: privateKey, kid: 'svc-1' }), insecure);
    expect((await client.clientCredentialsGrant(m2m)).access_token).toBeTruthy();
    used.push('client_credentials');
    expect([...grants].sort()).toEqual(used.sort());
  });
});
