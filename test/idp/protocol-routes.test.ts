/**
 * oidc-provider's JSON endpoints are answered without Express and the page middleware (issue 10 §3, "less stack
 * on protocol paths"): `Idp.protocol` alone, on a bare node:http server, serves token, userinfo, JWKS, discovery,
 * introspection, revocation and PAR with the bad-input check and the security headers, and leaves every other
 * path (the pages, `/auth`, `/session/end`) to the Express app, where helmet's CSP stays on the HTML.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Idp } from '../../idp/index.js';
import { sealingKeysOf, wireIdp } from '../../server/wiring.js';
import { createLogger } from '../../lib/index.js';
import { createSigningKeyStore } from '../../storage/index.js';
import { browser, startIdp, type IdpFixture } from './fixture.js';

/** Builds another IdP on the fixture's database and serves only its `protocol` handler (404 for anything it declines). */
async function serveProtocolOnly(f: IdpFixture): Promise<{ base: string; idp: Idp; close: () => Promise<void> }> {
  const clock = { now: () => new Date() };
  const jwks = await createSigningKeyStore(f.database, sealingKeysOf(f.config)).listJwks(clock.now());
  const idp = await wireIdp(f.config, f.database, { identity: f.identity, clients: f.clients, jwks, clock, logger: createLogger('silent') });
  const server = http.createServer((req, res) => idp.protocol(req, res) || res.writeHead(404, { 'content-type': 'text/plain' }).end('declined'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, idp, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('protocol endpoints without the page middleware', () => {
  let f: IdpFixture;
  let served: Awaited<ReturnType<typeof serveProtocolOnly>>;
  beforeAll(async () => {
    f = await startIdp();
    served = await serveProtocolOnly(f);
  });
  afterAll(async () => {
    await served?.close();
    await f?.close();
  });

  it('answers JWKS, discovery, token, userinfo, introspection, revocation and PAR on their own, with Cache-Control, no-store and the security headers', async () => {
    const discovery = await fetch(`${served.base}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as Record<string, string>;
    expect(metadata.issuer).toBe('http://localhost:3999');
    expect(discovery.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    const jwks = await fetch(`${served.base}/jwks`);
    expect(jwks.status).toBe(200);
    expect(((await jwks.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
    for (const res of [discovery, jwks]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    const token = await fetch(`${served.base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=nope&client_id=nobody' });
    expect(token.status).toBeGreaterThanOrEqual(400);
    expect(token.status).toBeLessThan(500);
    expect(token.headers.get('cache-control')).toBe('no-store');
    expect(((await token.json()) as { error: string }).error).toBe('invalid_client');
    const userinfo = await fetch(`${served.base}/me`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toContain('invalid_token');
    for (const path of ['/token/introspection', '/token/revocation', '/request']) {
      const res = await fetch(`${served.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x&client_id=nobody' });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(((await res.json()) as { error: string }).error, path).toBe('invalid_client');
    }
  });

  it('refuses control characters in a JSON endpoint query with 400 invalid_request, before oidc-provider', async () => {
    const res = await fetch(`${served.base}/jwks?x=%00`);
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('control characters') });
  });

  it('leaves the pages, /auth and /session/end to the Express app, where the HTML keeps its CSP', async () => {
    for (const path of ['/', '/auth?client_id=nobody', '/auth/abc', '/session/end', '/interaction/abc', '/assets/idp.css', '/jwks/', '/tokens']) {
      const res = await fetch(`${served.base}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).toBe('declined');
    }
    const auth = await browser(f).get('/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fexample.com%2Fcb');
    expect(auth.status).toBe(400);
    expect(auth.headers['content-type']).toContain('text/html');
    expect(auth.headers['content-security-policy']).toContain("default-src 'self'");
    expect(auth.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });
});

describe('protocol endpoints under an issuer path', () => {
  let f: IdpFixture;
  let served: Awaited<ReturnType<typeof serveProtocolOnly>>;
  beforeAll(async () => {
    f = await startIdp({ ISSUER: 'http://localhost:3999/idp' });
    served = await serveProtocolOnly(f);
  });
  afterAll(async () => {
    await served?.close();
    await f?.close();
  });

  it('serves the endpoints below the issuer path, and discovery names them there', async () => {
    const discovery = await fetch(`${served.base}/idp/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as Record<string, string>;
    expect(metadata.token_endpoint).toBe('http://localhost:3999/idp/token');
    expect(metadata.jwks_uri).toBe('http://localhost:3999/idp/jwks');
    const jwks = await fetch(`${served.base}/idp/jwks`);
    expect(jwks.status).toBe(200);
    // Cache-Control (key-set-caching.ts) matches the paths below the issuer path too.
    for (const res of [discovery, jwks]) expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect((await fetch(`${served.base}/jwks`)).status).toBe(404);
  });
});
