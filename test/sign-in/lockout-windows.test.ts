import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/authenticator.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';

/**
 * A locked account over several lockout windows (design/security.md §2): no fresh budget per window, only the
 * one password check per window that lets the right password learn the account is locked.
 */
describe('a locked account across lockout windows', () => {
  const clock = new ManualClock();
  let t: TestIdp;

  beforeAll(async () => {
    t = await startTestIdp({}, { clock });
  });
  afterAll(() => t?.close());

  const checks = async (accountId: string) =>
    (await t.idp.identity.stores.audit.list({ accountId, type: 'account.sign_in_failed', limit: 1000 })).filter((e) => e.data.reason === 'wrong_password').length;

  it('gets one password check per window once locked, never a new budget of five', async () => {
    const user = await t.createAccount({ userId: 'lock.windows' });
    const { passwordSignIn } = t.idp.identity;
    for (let i = 0; i < 5; i++) expect((await passwordSignIn.verifyPassword(user.userId, `wrong-${i}-password`)).outcome).toBe('invalid');
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
    expect(await checks(user.id)).toBe(5);
    const window = t.config.lockout.windowSeconds;
    for (let w = 1; w <= 3; w++) {
      clock.advance(window);
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => passwordSignIn.verifyPassword(user.userId, `window-${w}-guess-${i}`)));
      expect(outcomes.every((o) => o.outcome === 'invalid')).toBe(true);
      expect(await checks(user.id)).toBe(5 + w);
    }
    clock.advance(window);
    expect((await passwordSignIn.verifyPassword(user.userId, user.password)).outcome).toBe('locked');
    // The check of this window is spent: even the right password now gets the generic answer.
    expect((await passwordSignIn.verifyPassword(user.userId, user.password)).outcome).toBe('invalid');
  });
});
