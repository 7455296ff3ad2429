import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser, ISSUER, startIdp, type IdpFixture } from './fixture.js';

const REDIRECT = 'http://localhost:7101/cb';

describe('the provider runs in production mode (design/security.md §7)', () => {
  let f: IdpFixture;
  beforeAll(async () => {
    f = await startIdp();
    await f.client({ clientId: 'discovery-client', redirectUri: REDIRECT });
  });
  afterAll(() => f?.close());

  it('advertises the code flow only, PKCE with S256 only, and our scopes and claims', async () => {
    const res = await browser(f).get('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.body.issuer).toBe(ISSUER);
    expect(res.body.response_types_supported).toEqual(['code']);
    expect(res.body.code_challenge_methods_supported).toEqual(['S256']);
    expect(res.body.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'organization']));
    expect(res.body.claims_supported).toEqual(expect.arrayContaining(['name', 'email', 'email_verified', 'organization', 'functions', 'amr']));
    expect(res.body.revocation_endpoint).toBe(`${ISSUER}/token/revocation`);
    expect(res.body.end_session_endpoint).toBe(`${ISSUER}/session/end`);
  });

  it('builds every URL from the configured issuer, whatever Host and X-Forwarded-Host say', async () => {
    const res = await browser(f).get('/.well-known/openid-configuration').set('Host', 'evil.example').set('X-Forwarded-Host', 'evil.example').set('X-Forwarded-Proto', 'https');
    const urls = Object.values(res.body as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && v.includes('://'));
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) expect(url.startsWith(ISSUER)).toBe(true);
  });

  it('has no development interactions: an unknown interaction URL restarts instead of showing a dev login form', async () => {
    const res = await browser(f).get('/interaction/not-a-real-interaction');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/?expired=1');
    expect(res.text).not.toMatch(/<form/i);
  });

  it('refuses an authorization request without PKCE, back to the client with invalid_request', async () => {
    const params = new URLSearchParams({ client_id: 'discovery-client', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', state: 's1' });
    const res = await browser(f).get(`/auth?${params}`);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.location!);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('refuses response types other than code', async () => {
    const params = new URLSearchParams({ client_id: 'discovery-client', redirect_uri: REDIRECT, response_type: 'id_token', scope: 'openid', nonce: 'n', state: 's2' });
    const res = await browser(f).get(`/auth?${params}`);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.location!);
    const answer = new URLSearchParams(location.hash.slice(1) || location.search);
    expect(answer.get('error')).toBe('unsupported_response_type');
  });

  it('sends security headers with a self-only CSP and no framing on every answer', async () => {
    for (const path of ['/', '/.well-known/openid-configuration', '/assets/idp.css']) {
      const res = await browser(f).get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-security-policy'], path).toContain("default-src 'self'");
      expect(res.headers['content-security-policy'], path).toContain("script-src 'self'");
      expect(res.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['x-powered-by'], path).toBeUndefined();
    }
  });
});
