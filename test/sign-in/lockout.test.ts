import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7301/auth/callback';
const LOCKED_TEXT = /locked/i;

describe('lockout after 5 consecutive failures (design/security.md §2)', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await t.registerClient({ clientId: 'lockout-client', redirectUri: REDIRECT });
  });
  afterAll(() => t?.close());

  async function signInPage(ua = new UserAgent()): Promise<{ ua: UserAgent; page: Page }> {
    const auth = await startAuthorization(c.rp, REDIRECT);
    return { ua, page: await ua.follow(auth.url.toString()) };
  }
  async function tryPassword(login: string, password: string): Promise<Page> {
    const { ua, page } = await signInPage();
    return submitPassword(ua, page, login, password);
  }
  async function failures(accountId: string, reason: string): Promise<number> {
    return (await t.idp.identity.stores.audit.list({ accountId, type: 'account.sign_in_failed', limit: 1000 })).filter((e) => e.data.reason === reason).length;
  }

  it('locks after 5 wrong passwords; then only the right password learns that the account is locked', async () => {
    const user = await t.createAccount({ userId: 'lock.seq' });
    for (let i = 0; i < 5; i++) expect(textOf((await tryPassword(user.userId, `wrong-${i}-password`)).html)).not.toMatch(LOCKED_TEXT);
    const right = await tryPassword(user.userId, user.password);
    expect(textOf(right.html)).toMatch(LOCKED_TEXT);
    expect(textOf(right.html)).toMatch(/delegated administrator|reset/i);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
    expect(await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.locked' })).toHaveLength(1);
    const wrongWhileLocked = await tryPassword(user.userId, 'still-the-wrong-one');
    expect(textOf(wrongWhileLocked.html)).not.toMatch(LOCKED_TEXT);
    expect(textOf(wrongWhileLocked.html)).toContain('The user ID/email or password is incorrect.');
  });

  it('gives a burst of guesses against a locked account at most one extra password check', async () => {
    const user = await t.createAccount({ userId: 'lock.burst2' });
    for (let i = 0; i < 5; i++) await tryPassword(user.userId, `wrong-${i}-password`);
    const before = await failures(user.id, 'wrong_password');
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => t.idp.identity.passwordSignIn.verifyPassword(user.userId, i === 29 ? user.password : `locked-guess-${i}`)));
    expect(outcomes.filter((o) => o.outcome === 'ok')).toEqual([]);
    const checks = (await failures(user.id, 'wrong_password')) - before + outcomes.filter((o) => o.outcome === 'locked').length;
    expect(checks).toBeLessThanOrEqual(1);
    expect(await failures(user.id, 'attempt_budget_exhausted')).toBeGreaterThanOrEqual(29);
  });

  it('leaves the account locked with no 5xx after 50 concurrent wrong passwords: 5 checks, plus at most one once locked', async () => {
    const user = await t.createAccount({ userId: 'lock.burst' });
    const pages = await Promise.all(Array.from({ length: 50 }, (_, i) => tryPassword(user.userId, `burst-wrong-${i}`)));
    expect(pages.filter((p) => p.status >= 500)).toEqual([]);
    expect(new Set(pages.map((p) => p.status)).size).toBe(1);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
    const checked = await failures(user.id, 'wrong_password');
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(checked).toBeLessThanOrEqual(6);
    expect(await failures(user.id, 'attempt_budget_exhausted')).toBe(50 - checked);
  });

  it('finds the right password among 50 concurrent guesses at most by chance: ≤ 5 wrong checks per window, plus one once locked, in each of 20 trials', async () => {
    let found = 0;
    for (let trial = 0; trial < 20; trial++) {
      const user = await t.createAccount({ userId: `lock.trial${trial}`, organization: await t.newOrganization() });
      const position = Math.floor(Math.random() * 50);
      const guesses = Array.from({ length: 50 }, (_, i) => (i === position ? user.password : `trial-${trial}-guess-${i}`));
      const outcomes = await Promise.all(guesses.map((g) => t.idp.identity.passwordSignIn.verifyPassword(user.userId, g)));
      // Failures never exceed 5 per window; a guess that arrives after the lock may get the one locked check.
      // (The right password, once checked, gives its slot back: that can only happen after it was found.)
      expect(await failures(user.id, 'wrong_password')).toBeLessThanOrEqual(6);
      if (outcomes.some((o) => o.outcome === 'ok' || o.outcome === 'locked')) found++;
    }
    // Each trial checks at most 6 of 50 guesses: found ~ Binomial(20, ≤ 0.12); P(found > 9) < 1e-4.
    expect(found).toBeLessThanOrEqual(9);
  }, 240_000); // 20 × 50 argon2id verifications: about 40 s on 2 idle cores

  it('counts a wrong emailed code as a failure: 4 wrong passwords and one wrong code lock the account', async () => {
    const user = await t.createAccount({ userId: 'lock.otp' });
    for (let i = 0; i < 4; i++) await tryPassword(user.userId, `wrong-${i}-password`);
    const { ua, page } = await signInPage();
    const codePage = await submitPassword(ua, page, user.userId, user.password);
    expect(textOf(codePage.html)).toContain('One-time code');
    const result = await ua.submit(codePage, { 'One-time code': '000000' });
    expect(textOf(result.html)).toMatch(LOCKED_TEXT);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
  });

  it('resets the count after a completed sign-in', async () => {
    const user = await t.createAccount({ userId: 'lock.reset' });
    for (let i = 0; i < 4; i++) await tryPassword(user.userId, `wrong-${i}-password`);
    const since = t.smtp.messages.length;
    const { ua, page } = await signInPage();
    const codePage = await submitPassword(ua, page, user.userId, user.password);
    const code = otpFrom(await t.smtp.waitFor(user.email, { since }));
    const done = await ua.submit(codePage, { 'One-time code': code }, { stopAt: (next) => next.startsWith(REDIRECT) });
    expect(done.redirectedTo).toContain('code=');
    for (let i = 0; i < 4; i++) await tryPassword(user.userId, `again-wrong-${i}`);
    const lockout = await t.idp.identity.stores.lockouts.find(user.id);
    expect(lockout?.lockedAt).toBeNull();
    expect(lockout?.attempts).toBe(4);
  });

  it('lets the right password in again after an unlock', async () => {
    const user = await t.createAccount({ userId: 'lock.unlock' });
    for (let i = 0; i < 5; i++) await tryPassword(user.userId, `wrong-${i}-password`);
    expect(await t.idp.identity.accounts.unlockAccount(user.id, 'test')).toBe(true);
    const page = await tryPassword(user.userId, user.password);
    expect(textOf(page.html)).toContain('One-time code');
  });
});
