/**
 * `returnTo` never becomes an open redirect: only same-origin relative paths survive sign-in. Issue 8 §1: the
 * check must hold for the *normalised* path, since dot segments collapse `/.//evil` into `//evil`.
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

/** Known ways around a check on the raw string (issue 8 §1); each must come out as `/`. */
const BYPASSES = [
  '/.//evil.example/x', // dot segment collapses into a scheme-relative URL
  '/a/..//evil.example/x',
  '/..//evil.example/x',
  '/%2e//evil.example/x', // encoded dots are dot segments to the URL parser
  '/%2E%2E//evil.example/x',
  '/.%2e//evil.example/x',
  '/%2e%2e%2f%2fevil.example/x',
  '/%2f%2fevil.example/x', // encoded slashes, for servers that decode before redirecting
  '/%2F%2Fevil.example/x',
  '/%5cevil.example/x', // encoded backslash
  '/%5C%5Cevil.example/x',
  '/\\evil.example/x', // backslashes: browsers read them as slashes
  '/\\/evil.example/x',
  '\\/evil.example/x',
  '/x/../\\evil.example',
  '/\t/evil.example/x', // tab and newlines are stripped by the URL parser
  '/\n/evil.example/x',
  '/\r\n//evil.example/x',
  '/%09/evil.example/x',
  '/%00//evil.example/x',
  '//evil.example/x', // scheme-relative
  '///evil.example/x',
  '//user@evil.example/x',
  '@evil.example/x',
  'https://evil.example/x',
  'http:evil.example/x',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
];

describe('safeReturnTo against known open-redirect bypasses', () => {
  it.each(BYPASSES)('turns %j into /', (input) => {
    expect(safeReturnTo(input)).toBe('/');
  });

  it.each([...BYPASSES, '/@evil.example', '/x@evil.example/', '/javascript:alert(1)', '/a/./b/../c?next=//evil.example#top', '/a%2Fb'])(
    'answers %j with a path a browser resolves on the portal itself, stable when checked again',
    (input) => {
      const out = safeReturnTo(input);
      expect(out.startsWith('/') && !out.startsWith('//') && !out.includes('\\')).toBe(true);
      expect(new URL(out, 'https://portal.example/page').origin).toBe('https://portal.example');
      expect(safeReturnTo(out)).toBe(out);
    },
  );

  it('keeps harmless paths that contain @ or an encoded slash', () => {
    expect(safeReturnTo('/@evil.example')).toBe('/@evil.example');
    expect(safeReturnTo('/files/a%2Fb')).toBe('/files/a%2Fb');
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

  /** Signs in through `loginPath` and returns the callback's answer. */
  async function signInThrough(loginPath: string) {
    const login = await request(app).get(loginPath);
    expect(login.status).toBe(303);
    expect(new URL(login.headers.location!).origin).toBe(new URL(idp.issuer).origin); // to the IdP, nowhere else
    const back = idp.authorize(login.headers.location!, { sub: 'account-1' });
    return request(app).get(`${back.pathname}${back.search}`).set('Cookie', cookiePair(setCookies(login).get('portal_session_tx')));
  }

  it.each(['https://evil.example/phish', '//evil.example/phish', '/\\evil.example'])(
    'lands on / instead of %s after sign-in',
    async (target) => {
      const callback = await signInThrough(`/auth/login?returnTo=${encodeURIComponent(target)}`);
      expect(callback.status).toBe(303);
      expect(callback.headers.location).toBe('/');
    },
  );

  it.each(BYPASSES)('never answers the callback of returnTo=%j with a Location off the portal', async (target) => {
    const callback = await signInThrough(`/auth/login?returnTo=${encodeURIComponent(target)}`);
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/');
    expect(new URL(callback.headers.location!, 'http://localhost:3902/auth/callback').origin).toBe('http://localhost:3902');
  });

  it.each(['/.//evil.example/x', '/a/..//evil.example/x', '/%2e//evil.example/x', '/%2f%2fevil.example/x'])(
    'never lands off the portal from the initiate-login target_link_uri http://localhost:3902%s',
    async (path) => {
      const query = new URLSearchParams({ iss: idp.issuer, target_link_uri: `http://localhost:3902${path}` });
      const callback = await signInThrough(`/auth/login?${query}`);
      expect(callback.status).toBe(303);
      expect(callback.headers.location).toBe('/');
    },
  );

  it('still returns to a same-origin path after sign-in', async () => {
    const callback = await signInThrough(`/auth/login?returnTo=${encodeURIComponent('/reports/../statements?month=3')}`);
    expect(callback.headers.location).toBe('/statements?month=3');
  });
});
