import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { ManualClock, passwordStep, registerApp } from '../support/authenticator.js';

const REDIRECT = 'http://localhost:7419/cb';

/**
 * A right password is no failure (design/security.md §2): the sign-in flow gives its lockout reservation back in the
 * statement that stores the first emailed code, or itself when the second factor's page writes nothing (the app).
 */
describe('the right password gives its lockout reservation back at the password step', () => {
  let t: TestIdp;
  let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestIdp({}, { clock });
    rp = (await t.registerClient({ clientId: 'right-password-release', redirectUri: REDIRECT })).rp;
  });
  afterAll(() => t?.close());

  const counts = async (accountId: string) => t.idp.identity.stores.lockouts.find(accountId);

  it('with an emailed code as second factor: nothing stays counted after three right passwords', async () => {
    const user = await t.createAccount({ userId: 'release.email' });
    for (let i = 0; i < 3; i++) expect((await passwordStep(rp, REDIRECT, user.userId, user.password)).page.html).toContain('One-time code');
    expect(await counts(user.id)).toMatchObject({ attempts: 0, consecutiveFailures: 0, lockedAt: null });
  });

  it('with the app as second factor: nothing stays counted either', async () => {
    const user = await t.createAccount({ userId: 'release.app' });
    await registerApp(t, user.id, clock);
    clock.advance(60);
    for (let i = 0; i < 3; i++) await passwordStep(rp, REDIRECT, user.userId, user.password);
    expect(await counts(user.id)).toMatchObject({ attempts: 0, consecutiveFailures: 0, lockedAt: null });
  });
});
