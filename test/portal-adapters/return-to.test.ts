/**
 * `returnTo` never becomes an open redirect: only same-origin relative paths survive sign-in.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortalAuth, safeReturnTo } from '../../portal-adapters/index.js';
import { cookiePair, setCookies } from './support/cookies.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

describe('safeReturnTo', () => {
  it.each([
    ['/reports', '/reports'],
    ['/reports?day=1#top', '/reports?day=1#top'],
    ['/a/../b', '/b'],
  ])('keeps the same-origin path %s', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });

  it.each([
    'https://evil.example/',
    '//evil.example/path',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    'javascript:alert(1)',
    'reports',
    '',
    '/auth/logout',
    `/${'a'.repeat(2100)}`,
    ['/', '//evil.example'],
    undefined,
  ])('turns %j into /', (input) => {
    expect(safeReturnTo(input)).toBe('/');
  });
});

describe('returnTo through a real sign-in', () => {
  let idp: TestIssuer;
  let app: express.Express;
  beforeAll(async () => {
    idp = await startTestIssuer();
    const auth = await createPortalAuth({
      issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost:3902',
      cookieSecret: 'another-test-cookie-secret-32-characters', allowInsecureRequests: true,
    });
    app = express().use(auth.router);
  });
  afterAll(() => idp.close());

  it.each(['https://evil.example/phish', '//evil.example/phish', '/\\evil.example'])(
    'lands on / instead of %s after sign-in',
    async (target) => {
      const login = await request(app).get(`/auth/login?returnTo=${encodeURIComponent(target)}`);
      const back = idp.authorize(login.headers.location!, { sub: 'account-1' });
      const callback = await request(app).get(`${back.pathname}${back.search}`).set('Cookie', cookiePair(setCookies(login).get('portal_session_tx')));
      expect(callback.status).toBe(303);
      expect(callback.headers.location).toBe('/');
    },
  );
});
