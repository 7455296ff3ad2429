/**
 * The JWKS and discovery answers are cacheable for less than the signing-key publish-ahead delay
 * (SIGNING_KEY_PUBLISH_AHEAD_SECONDS), so a relying party honouring Cache-Control has fetched a rotated key
 * before the first token it signs arrives (issue 11 §9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/index.js';
import { browser, startIdp, type IdpFixture } from './fixture.js';

function maxAgeOf(cacheControl: string | undefined): number | undefined {
  const match = /(?:^|,)\s*max-age=(\d+)/.exec(cacheControl ?? '');
  return match ? Number(match[1]) : undefined;
}

describe('JWKS and discovery caching', () => {
  let f: IdpFixture;
  beforeAll(async () => {
    f = await startIdp({ SIGNING_KEY_RELOAD_SECONDS: '5', SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '40' });
  });
  afterAll(() => f?.close());

  it('answers the JWKS and discovery with Cache-Control: public, max-age = a quarter of the publish-ahead delay, and only them (the token endpoint stays no-store)', async () => {
    const discovery = await browser(f).get('/.well-known/openid-configuration');
    expect(discovery.status).toBe(200);
    const jwks = await browser(f).get(new URL(discovery.body.jwks_uri as string).pathname);
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    for (const res of [discovery, jwks]) {
      expect(res.headers['cache-control']).toBe('public, max-age=10');
      expect(maxAgeOf(res.headers['cache-control'])).toBeLessThan(40);
    }
    const token = await browser(f).post('/token').type('form').send({ grant_type: 'authorization_code', code: 'nope', client_id: 'nobody' });
    expect(token.status).toBeGreaterThanOrEqual(400);
    expect(token.headers['cache-control']).toBe('no-store');
  });

  it('keeps max-age under the publish-ahead delay for every setting: at most 300 s, and publish-ahead at least twice the reload interval', () => {
    const defaults = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    expect(defaults.signingKeyPublishAheadSeconds).toBe(3600);
    expect(defaults.jwksMaxAgeSeconds).toBe(300);
    const cluster = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SIGNING_KEY_RELOAD_SECONDS: '2', SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '4' });
    expect(cluster.jwksMaxAgeSeconds).toBe(1);
    const tooShort = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SIGNING_KEY_RELOAD_SECONDS: '60', SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '30' });
    expect(tooShort.signingKeyPublishAheadSeconds).toBe(120);
    expect(tooShort.jwksMaxAgeSeconds).toBe(30);
  });
});
