import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7612/auth/callback';
const BURST = 12;

// The argon2 gate is one per process, so this file has an IdP of its own: one computation at a time, one waiting.
describe('argon2 work is capped, with a bounded queue (issue 8 point 4)', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE_LIMIT: '1', LOCKOUT_MAX_FAILURES: '50' });
    c = await t.registerClient({ clientId: 'argon2-gate', redirectUri: REDIRECT });
  });
  afterAll(() => t?.close());

  async function signInPage(): Promise<{ ua: UserAgent; page: Page }> {
    const ua = new UserAgent();
    return { ua, page: await ua.follow((await startAuthorization(c.rp, REDIRECT)).url.toString()) };
  }

  it('answers 503 with Retry-After to password checks beyond the queue, before they count toward the lockout', async () => {
    const user = await t.createAccount({ userId: 'argon2.burst' });
    const pages = await Promise.all(Array.from({ length: BURST }, () => signInPage()));
    const answers = await Promise.all(pages.map(({ ua, page }, i) => submitPassword(ua, page, user.userId, `burst-${i}-password`)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const page of refused) {
      expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(textOf(page.html)).toContain('Temporarily unavailable');
    }
    // Only the checked guesses were counted: each 401 is one audited failure, each 503 none.
    const failures = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.sign_in_failed', limit: 100 });
    expect(failures).toHaveLength(statuses.filter((s) => s === 401).length);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.attempts).toBe(statuses.filter((s) => s === 401).length);

    const { ua, page } = await signInPage();
    expect(textOf((await submitPassword(ua, page, user.userId, user.password)).html)).toContain('One-time code');
  });
});
