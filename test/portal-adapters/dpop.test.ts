/**
 * DPoP at the API (RFC 9449 §4.3, §7): a real DPoP-bound JWT access token from connect-iam (openid-client's
 * DPoP handle at the token endpoint), presented to an API protected by portal-adapters' `verifyBearer`.
 * The token is accepted only with the DPoP scheme and a fresh, matching proof; unbound tokens stay Bearer.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortalAuth } from '../../portal-adapters/index.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const PORTAL_API = 'urn:connect-iam:portal-api';
const REDIRECT = 'http://localhost:7301/auth/callback';

let t: TestIdp;
let rp: client.Configuration;
let server: Server;
let baseUrl: string;
let keyPair: client.CryptoKeyPair;
let publicJwk: JWK;
let boundToken: string;
let unboundToken: string;
let brokenStoreApp: express.Express;

/** Signs a proof for `boundToken` with `keyPair`; each field may be overridden (`undefined` removes a claim). */
async function proof(overrides: { htm?: string; htu?: string; iat?: number; ath?: string; jti?: string; key?: CryptoKey; jwk?: JWK; typ?: string; alg?: string } = {}): Promise<string> {
  const claims = {
    jti: overrides.jti ?? randomUUID(),
    htm: overrides.htm ?? 'GET',
    htu: overrides.htu ?? `${baseUrl}/api/profile`,
    ath: overrides.ath ?? createHash('sha256').update(boundToken).digest('base64url'),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: overrides.alg ?? 'ES256', typ: overrides.typ ?? 'dpop+jwt', jwk: overrides.jwk ?? publicJwk })
    .setIssuedAt(overrides.iat ?? Math.floor(Date.now() / 1000))
    .sign(overrides.key ?? keyPair.privateKey);
}

const api = (path = '/api/profile') => request(server).get(path);
const withDPoP = (dpopProof: string | undefined, path?: string) => {
  const req = api(path).set('Authorization', `DPoP ${boundToken}`);
  return dpopProof === undefined ? req : req.set('DPoP', dpopProof);
};

/** A 401 with a DPoP challenge (RFC 9449 §7.1) naming `error`, and the reason (`error_description`) containing `reason`. */
function expectRefused(res: request.Response, error: 'invalid_dpop_proof' | 'invalid_token', reason: string) {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(new RegExp(`^DPoP error="${error}", error_description="[^"]*${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^"]*", algs="[A-Za-z0-9 ]+"$`));
  expect(res.body).toEqual({ error, error_description: expect.stringContaining(reason) });
}

beforeAll(async () => {
  t = await startTestIdp();
  const registered = await t.registerClient({ clientId: 'dpop-portal', redirectUri: REDIRECT });
  rp = registered.rp;
  const user = await t.createAccount({ userId: 'dpop.user', functions: ['EU_UserMaintenance'] });

  // The API: portal-adapters against the real IdP, on a real port; its public URL is its configured baseUrl.
  const app = express();
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = await createPortalAuth({
    issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret, baseUrl,
    cookieSecret: 'dpop-test-cookie-secret-of-32-characters', allowInsecureRequests: true,
  });
  app.get('/api/profile', auth.verifyBearer({ audience: PORTAL_API }), (_req, res) => res.json(res.locals.accessToken));
  // The same API with a replay store that cannot be reached.
  const broken = await createPortalAuth({
    issuer: t.issuer, clientId: registered.clientId, clientSecret: registered.clientSecret, baseUrl,
    cookieSecret: 'dpop-test-cookie-secret-of-32-characters', allowInsecureRequests: true, logger: { warn: () => {} },
    replayStore: { consume: () => Promise.reject(new Error('replay store down')) },
  });
  brokenStoreApp = express().get('/api/profile', broken.verifyBearer({ audience: PORTAL_API }), (_req, res) => res.json({}));

  // A DPoP-bound access token for the portal API, from the real token endpoint (RFC 9449 §5).
  keyPair = await client.randomDPoPKeyPair('ES256');
  publicJwk = await exportJWK(keyPair.publicKey);
  const ua = new UserAgent();
  const first = await startAuthorization(rp, REDIRECT, { resource: PORTAL_API });
  const callback = await signInToCallback({ ua, auth: first, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
  const bound = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: first.codeVerifier, expectedState: first.state, expectedNonce: first.nonce }, { resource: PORTAL_API }, { DPoP: client.getDPoPHandle(rp, keyPair) });
  expect(bound.token_type).toBe('dpop');
  boundToken = bound.access_token;

  // An unbound one for the same person (SSO: no second sign-in).
  const second = await startAuthorization(rp, REDIRECT, { resource: PORTAL_API });
  const page = await ua.follow(second.url.toString(), {}, (next) => next.startsWith(REDIRECT));
  const unbound = await client.authorizationCodeGrant(rp, new URL(page.redirectedTo!), { pkceCodeVerifier: second.codeVerifier, expectedState: second.state, expectedNonce: second.nonce }, { resource: PORTAL_API });
  expect(unbound.token_type).toBe('bearer');
  unboundToken = unbound.access_token;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await t?.close();
});

describe('verifyBearer with DPoP-bound access tokens (RFC 9449)', () => {
  it('the IdP binds the token to the client key: cnf.jkt is its RFC 7638 thumbprint', async () => {
    expect(decodeJwt(boundToken).cnf).toEqual({ jkt: await calculateJwkThumbprint(publicJwk) });
  });

  it('accepts the token with the DPoP scheme and a proof made by openid-client', async () => {
    const res = await client.fetchProtectedResource(rp, boundToken, new URL(`${baseUrl}/api/profile`), 'GET', undefined, undefined, { DPoP: client.getDPoPHandle(rp, keyPair) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ aud: PORTAL_API, client_id: 'dpop-portal', cnf: { jkt: expect.any(String) } });
  });

  it('refuses the bound token sent as a plain Bearer token, without a proof', async () => {
    const res = await api().set('Authorization', `Bearer ${boundToken}`);
    expectRefused(res, 'invalid_token', 'use the DPoP scheme');
  });

  it('refuses the bound token as Bearer even with a valid proof alongside', async () => {
    expectRefused(await api().set('Authorization', `Bearer ${boundToken}`).set('DPoP', await proof()), 'invalid_token', 'use the DPoP scheme');
  });

  it('accepts a hand-made proof, ignoring the query string in htu (§4.3 check 9)', async () => {
    expect((await withDPoP(await proof(), '/api/profile?page=2')).status).toBe(200);
  });

  it('compares htu after URL normalisation (RFC 3986 §6.2.2, §6.2.3)', async () => {
    const htu = `${baseUrl.replace('http', 'HTTP')}/api/./%70rofile#top`;
    expect((await withDPoP(await proof({ htu }))).status).toBe(200);
  });

  it('refuses the DPoP scheme without a DPoP header', async () => {
    expectRefused(await withDPoP(undefined), 'invalid_dpop_proof', 'proof is required');
  });

  it('refuses a proof for another method (htm)', async () => {
    expectRefused(await withDPoP(await proof({ htm: 'POST' })), 'invalid_dpop_proof', 'htm');
  });

  it('refuses a proof for another URL (htu)', async () => {
    expectRefused(await withDPoP(await proof({ htu: `${baseUrl}/api/other` })), 'invalid_dpop_proof', 'htu');
  });

  it('builds the request URL from the configured base URL, not the Host header', async () => {
    const res = await withDPoP(await proof({ htu: 'http://evil.example/api/profile' })).set('Host', 'evil.example');
    expectRefused(res, 'invalid_dpop_proof', 'htu');
  });

  it('refuses a stale proof and one from the future (iat outside ±60 s)', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectRefused(await withDPoP(await proof({ iat: now - 120 })), 'invalid_dpop_proof', 'iat');
    expectRefused(await withDPoP(await proof({ iat: now + 120 })), 'invalid_dpop_proof', 'iat');
  });

  it('refuses a proof for another access token (ath)', async () => {
    expectRefused(await withDPoP(await proof({ ath: createHash('sha256').update(unboundToken).digest('base64url') })), 'invalid_dpop_proof', 'ath');
  });

  it('refuses a proof signed by another key than the one the token is bound to', async () => {
    const other = await generateKeyPair('ES256');
    expectRefused(await withDPoP(await proof({ key: other.privateKey, jwk: await exportJWK(other.publicKey) })), 'invalid_token', 'bound to');
  });

  it('refuses a proof whose signature is not made by its jwk', async () => {
    const other = await generateKeyPair('ES256');
    expectRefused(await withDPoP(await proof({ key: other.privateKey })), 'invalid_dpop_proof', 'not a valid dpop+jwt');
  });

  it('refuses a proof carrying a private key in its jwk header', async () => {
    const own = await generateKeyPair('ES256', { extractable: true });
    const res = await withDPoP(await proof({ jwk: await exportJWK(own.privateKey), key: own.privateKey }));
    expectRefused(res, 'invalid_dpop_proof', 'not a valid dpop+jwt');
  });

  it('refuses a proof without typ dpop+jwt', async () => {
    expectRefused(await withDPoP(await proof({ typ: 'JWT' })), 'invalid_dpop_proof', 'not a valid dpop+jwt');
  });

  it('refuses a replayed proof (same jti twice, §11.1)', async () => {
    const once = await proof();
    expect((await withDPoP(once)).status).toBe(200);
    expectRefused(await withDPoP(once), 'invalid_dpop_proof', 'already used');
    expectRefused(await withDPoP(await proof({ jti: JSON.parse(Buffer.from(once.split('.')[1]!, 'base64url').toString()).jti })), 'invalid_dpop_proof', 'already used');
  });

  it('accepts a proof once when ten requests race with it', async () => {
    const once = await proof();
    const statuses = await Promise.all(Array.from({ length: 10 }, () => withDPoP(once).then((res) => res.status)));
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(9);
  });

  it('answers 503 when the replay store cannot be reached, never accepting the proof unchecked', async () => {
    const res = await request(brokenStoreApp).get('/api/profile').set('Authorization', `DPoP ${boundToken}`).set('DPoP', await proof());
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable' });
  });

  it('refuses two DPoP headers (§4.3 check 1)', async () => {
    const res = await api().set('Authorization', `DPoP ${boundToken}`).set('DPoP', [await proof(), await proof()] as unknown as string);
    expectRefused(res, 'invalid_dpop_proof', 'only one');
  });

  it('keeps accepting unbound tokens as Bearer, with Bearer challenges', async () => {
    const res = await api().set('Authorization', `Bearer ${unboundToken}`);
    expect(res.status).toBe(200);
    expect(res.body.cnf).toBeUndefined();
    const bad = await api().set('Authorization', `Bearer ${unboundToken}x`);
    expect(bad.status).toBe(401);
    expect(bad.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('refuses an unbound token presented with the DPoP scheme', async () => {
    const ath = createHash('sha256').update(unboundToken).digest('base64url');
    const res = await api().set('Authorization', `DPoP ${unboundToken}`).set('DPoP', await proof({ ath }));
    expectRefused(res, 'invalid_token', 'not DPoP-bound');
  });
});
