import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const REGISTERED = 'http://localhost:7201/auth/callback';
const VARIANTS = [
  'http://localhost:7201/auth/callback/',
  'http://localhost:7201/auth/callback?next=/admin',
  'http://localhost:7201/auth/callback#fragment',
  'http://localhost:7201/auth/Callback',
  'http://localhost:7202/auth/callback',
  'http://127.0.0.1:7201/auth/callback',
  'https://localhost:7201/auth/callback',
  'http://evil.example/auth/callback',
  'http://localhost:7201.evil.example/auth/callback',
  'http://localhost:7201/auth/callback/../../evil',
];

describe('redirect URIs are matched exactly (OAuth 2.0 Security BCP §4.1)', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await t.registerClient({ clientId: 'exact-client', redirectUri: REGISTERED });
  });
  afterAll(() => t?.close());

  it('accepts the registered URI', async () => {
    const auth = await startAuthorization(c.rp, REGISTERED);
    const page = await new UserAgent().request(auth.url.toString());
    expect(page.status).toBeLessThan(400);
    expect(new URL(page.headers.get('location')!, t.issuer).origin).toBe(t.issuer);
  });

  it.each(VARIANTS)('never redirects to the variant %s', async (variant) => {
    const auth = await startAuthorization(c.rp, REGISTERED);
    auth.url.searchParams.set('redirect_uri', variant);
    const page = await new UserAgent().request(auth.url.toString());
    expect(page.headers.get('location')).toBeNull();
    expect(page.status).toBe(400);
    expect(page.html).toContain('redirect_uri');
  });
});
