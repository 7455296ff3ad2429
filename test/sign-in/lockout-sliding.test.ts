import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/index.js';
import { ManualClock } from '../support/authenticator.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7311/auth/callback';
const WINDOW = 20;

/**
 * The lockout counts failures over a sliding window of LOCKOUT_WINDOW_SECONDS and, whatever their pace, stops at
 * LOCKOUT_MAX_CONSECUTIVE_FAILURES since the last completed sign-in (issue 8 §3; NIST SP 800-63B §5.2.2).
 */
describe('lockout over a sliding window, and after consecutive failures however slow', () => {
  const clock = new ManualClock();
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    // PASSWORD_HASH_QUEUE_LIMIT: room for this file's bursts of concurrent verifications in the argon2 gate.
    t = await startTestIdp({ LOCKOUT_WINDOW_SECONDS: String(WINDOW), PASSWORD_HASH_QUEUE_LIMIT: '200' }, { clock });
    c = await t.registerClient({ clientId: 'sliding-client', redirectUri: REDIRECT });
  });
  afterAll(() => t?.close());

  async function tryPassword(login: string, password: string) {
    const ua = new UserAgent();
    const page = await ua.follow((await startAuthorization(c.rp, REDIRECT)).url.toString());
    return submitPassword(ua, page, login, password);
  }
  const reasons = async (accountId: string) => (await t.idp.identity.stores.audit.list({ accountId, type: 'account.sign_in_failed', limit: 1000 })).map((e) => e.data.reason);
  const count = (list: unknown[], reason: string) => list.filter((r) => r === reason).length;

  it('reads LOCKOUT_MAX_CONSECUTIVE_FAILURES, 20 by default, and refuses more than the 100 NIST allows', () => {
    expect(loadConfig({}).lockout.maxConsecutiveFailures).toBe(20);
    expect(loadConfig({ LOCKOUT_MAX_CONSECUTIVE_FAILURES: '100' }).lockout.maxConsecutiveFailures).toBe(100);
    expect(() => loadConfig({ LOCKOUT_MAX_CONSECUTIVE_FAILURES: '101' })).toThrow(ConfigError);
  });

  it('locks when 4 failures are followed by 4 more after the window start moved: the earlier ones still count', async () => {
    const user = await t.createAccount({ userId: 'slide.probe' });
    // Old, fixed windows: the window started at the first failure and ended 20 s later, when 5 fresh tries began.
    expect((await tryPassword(user.userId, 'probe-wrong-0')).status).toBe(401);
    clock.advance(15);
    for (let i = 1; i < 4; i++) expect((await tryPassword(user.userId, `probe-wrong-${i}`)).status).toBe(401);
    clock.advance(6);
    const after = [];
    for (let i = 4; i < 8; i++) after.push(await tryPassword(user.userId, `probe-wrong-${i}`));
    // The answers do not change: every failure, checked or refused, is the same 401.
    expect(after.map((p) => p.status)).toEqual([401, 401, 401, 401]);
    expect(after.every((p) => textOf(p.html).includes('The user ID/email or password is incorrect.'))).toBe(true);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
    // Checked: 1 + 3 + 2 (the window (1 s, 21 s] then holds 5 and locks), then the one check a locked account gets.
    const seen = await reasons(user.id);
    expect(count(seen, 'wrong_password')).toBe(7);
    expect(count(seen, 'attempt_budget_exhausted')).toBe(1);
    // The right password no longer reaches the second factor: at the next window's locked check it learns
    // that the account is locked (this window's check went to a guess).
    clock.advance(WINDOW);
    const right = await tryPassword(user.userId, user.password);
    expect(right.status).toBe(403);
    expect(textOf(right.html)).toContain('Your account is locked');
  });

  it('locks after 20 consecutive failures even at 4 per window, and the right password alone does not restart the count', async () => {
    const user = await t.createAccount({ userId: 'slide.slow' });
    const { passwordSignIn } = t.idp.identity;
    expect(t.config.lockout.maxConsecutiveFailures).toBe(20);
    for (let batch = 0; batch < 5; batch++) {
      // The right password first: it reaches the second factor, but only a completed sign-in resets the count.
      expect((await passwordSignIn.verifyPassword(user.userId, user.password)).outcome).toBe('ok');
      for (let i = 0; i < 4; i++) expect((await passwordSignIn.verifyPassword(user.userId, `slow-${batch}-${i}`)).outcome).toBe('invalid');
      expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt ?? null).toEqual(batch < 4 ? null : expect.any(Date));
      clock.advance(WINDOW + 1);
    }
    expect(count(await reasons(user.id), 'wrong_password')).toBe(20);
    expect((await passwordSignIn.verifyPassword(user.userId, user.password)).outcome).toBe('locked');
    expect(await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.locked' })).toHaveLength(1);
  });

  it('starts the consecutive count again after a completed sign-in', async () => {
    const user = await t.createAccount({ userId: 'slide.reset' });
    const fourSlowFailures = async (tag: string) => {
      for (let i = 0; i < 4; i++) expect((await tryPassword(user.userId, `${tag}-${i}`)).status).toBe(401);
      clock.advance(WINDOW + 1);
    };
    for (let batch = 0; batch < 4; batch++) await fourSlowFailures(`before-${batch}`);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.consecutiveFailures).toBe(16);
    const auth = await startAuthorization(c.rp, REDIRECT);
    await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    expect(await t.idp.identity.stores.lockouts.find(user.id)).toMatchObject({ consecutiveFailures: 0, lockedAt: null });
    for (let batch = 0; batch < 4; batch++) await fourSlowFailures(`after-${batch}`);
    expect(await t.idp.identity.stores.lockouts.find(user.id)).toMatchObject({ consecutiveFailures: 16, lockedAt: null });
  });

  it('checks at most the rest of the sliding window of 100 concurrent wrong passwords, plus the one check once locked', async () => {
    const user = await t.createAccount({ userId: 'slide.burst' });
    const { passwordSignIn } = t.idp.identity;
    await passwordSignIn.verifyPassword(user.userId, 'early-wrong-0');
    clock.advance(15);
    for (let i = 1; i < 3; i++) await passwordSignIn.verifyPassword(user.userId, `early-wrong-${i}`);
    clock.advance(6); // a fixed window would start afresh here, with 5 more checks
    const burstAt = clock.now().getTime();
    const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => passwordSignIn.verifyPassword(user.userId, `burst-wrong-${i}`)));
    expect(outcomes.every((o) => o.outcome === 'invalid')).toBe(true);
    const burst = (await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.sign_in_failed', limit: 1000 })).filter((e) => e.occurredAt.getTime() === burstAt);
    const checked = burst.filter((e) => e.data.reason === 'wrong_password').length;
    // The two failures at 15 s still count, so the window has room for 3 argon2 checks, then the lock's one check.
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(checked).toBeLessThanOrEqual(4);
    expect(burst.filter((e) => e.data.reason === 'attempt_budget_exhausted')).toHaveLength(100 - checked);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
  }, 120_000);
});
