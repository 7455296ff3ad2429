/**
 * `verifyBearer` accepts only RFC 9068 JWT access tokens signed by the issuer's JWKS (served over HTTP
 * by the test issuer) for the right issuer and audience, unexpired and untampered.
 */
import express from 'express';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortalAuth } from '../../portal-adapters/index.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

const audience = 'urn:connect-iam:portal-api';
let idp: TestIssuer;
let app: express.Express;

beforeAll(async () => {
  idp = await startTestIssuer();
  const auth = await createPortalAuth({
    issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3903',
    cookieSecret: 'bearer-test-cookie-secret-of-32-characters', allowInsecureRequests: true,
  });
  app = express();
  app.get('/api/profile', auth.verifyBearer({ audience }), (_req, res) => res.json(res.locals.accessToken));
});
afterAll(() => idp.close());

const call = (token?: string) => {
  const req = request(app).get('/api/profile');
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
};

function expectInvalidToken(res: request.Response) {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  expect(res.body).toEqual({ error: 'invalid_token' });
}

describe('verifyBearer', () => {
  it('accepts a valid RS256 at+jwt and exposes its claims', async () => {
    const res = await call(await idp.signAccessToken(audience, { claims: { sub: 'account-7', scope: 'openid profile' } }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sub: 'account-7', aud: audience, iss: idp.issuer, client_id: idp.clientId, scope: 'openid profile' });
  });

  it('asks for a token when there is none (RFC 6750 §3.1)', async () => {
    const res = await call();
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses an expired token', async () => {
    expectInvalidToken(await call(await idp.signAccessToken(audience, { expiresInSeconds: -60 })));
  });

  it('refuses a token for another audience', async () => {
    expectInvalidToken(await call(await idp.signAccessToken('urn:other:api')));
  });

  it('refuses a token from another issuer', async () => {
    expectInvalidToken(await call(await idp.signAccessToken(audience, { claims: { iss: 'https://evil.example' } })));
  });

  it('refuses a tampered token', async () => {
    const [header, payload, signature] = (await idp.signAccessToken(audience)).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    expectInvalidToken(await call(`${header}.${forged}.${signature}`));
  });

  it('refuses a token signed by a key the issuer does not publish', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    expectInvalidToken(await call(await idp.signAccessToken(audience, { key: privateKey })));
  });

  it('refuses an ID token (typ JWT) used as an access token (RFC 9068 §4)', async () => {
    expectInvalidToken(await call(await idp.signAccessToken(audience, { typ: 'JWT' })));
  });

  it('refuses a token without client_id and jti (RFC 9068 §2.2)', async () => {
    expectInvalidToken(await call(await idp.signAccessToken(audience, { claims: { client_id: undefined, jti: undefined } })));
  });

  it('refuses a token with nbf in the future', async () => {
    expectInvalidToken(await call(await idp.signAccessToken(audience, { claims: { nbf: Math.floor(Date.now() / 1000) + 120 } })));
  });

  it('refuses an HS256 token keyed with the published public key (algorithm confusion)', async () => {
    const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: object[] };
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const token = await new SignJWT({ iss: idp.issuer, aud: audience, sub: 'x', client_id: 'c', jti: 'j' })
      .setProtectedHeader({ alg: 'HS256', kid: 'test-key', typ: 'at+jwt' }).setIssuedAt().setExpirationTime('5m').sign(secret);
    expectInvalidToken(await call(token));
  });

  it('refuses a malformed token', async () => {
    expectInvalidToken(await call('not-a-jwt'));
    expectInvalidToken(await call('e30.e30.e30'));
  });

  it('refuses an unsigned token', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const token = `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ iss: idp.issuer, aud: audience, sub: 'x', client_id: 'c', jti: 'j', iat: now, exp: now + 60 })}.`;
    expectInvalidToken(await call(token));
  });
});
