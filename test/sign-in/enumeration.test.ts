import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7401/auth/callback';

describe('failed sign-ins look the same whatever the cause (design/security.md §3)', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await t.registerClient({ clientId: 'enum-client', redirectUri: REDIRECT });
  });
  afterAll(() => t?.close());

  async function attempt(login: string, password: string) {
    const ua = new UserAgent();
    const auth = await startAuthorization(c.rp, REDIRECT);
    const page = await ua.follow(auth.url.toString());
    const started = performance.now();
    const result = await submitPassword(ua, page, login, password);
    return { status: result.status, text: textOf(result.html).replace(/[0-9a-zA-Z_-]{20,}/g, '…'), ms: performance.now() - started };
  }

  it('gives unknown user, wrong password, suspended, closed and locked-with-wrong-password the same status and message', async () => {
    const wrong = await t.createAccount({ userId: 'enum.wrong' });
    const suspended = await t.createAccount({ userId: 'enum.suspended' });
    const closed = await t.createAccount({ userId: 'enum.closed' });
    const locked = await t.createAccount({ userId: 'enum.locked' });
    await t.idp.identity.stores.accounts.setStatus(suspended.id, 'suspended', new Date());
    await t.idp.identity.stores.accounts.setStatus(closed.id, 'closed', new Date());
    for (let i = 0; i < 5; i++) await attempt(locked.userId, `wrong-${i}-password`);

    const results = {
      unknown: await attempt('nobody.here', 'some-password-1'),
      wrongPassword: await attempt(wrong.userId, 'some-password-1'),
      suspendedRight: await attempt(suspended.userId, suspended.password),
      closedRight: await attempt(closed.userId, closed.password),
      lockedWrong: await attempt(locked.userId, 'some-password-1'),
    };
    const reference = results.unknown;
    expect(reference.text).toContain('The user ID/email or password is incorrect.');
    for (const [name, r] of Object.entries(results)) {
      expect({ name, status: r.status, text: r.text }).toEqual({ name, status: reference.status, text: reference.text });
    }
  });

  it('spends about the same time on an unknown user as on a wrong password (dummy argon2 hash)', async () => {
    // Three accounts, four wrong passwords each (below the lockout), interleaved with unknown users: 12 samples
    // a side, so one slow request on a busy machine does not move the median.
    const users = [await t.createAccount({ userId: 'enum.timing' }), await t.createAccount({ userId: 'enum.timing2' }), await t.createAccount({ userId: 'enum.timing3' })];
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < 12; i++) {
      unknown.push((await attempt(`ghost.${i}`, 'timing-password-x')).ms);
      known.push((await attempt(users[i % 3]!.userId, `timing-wrong-${i}`)).ms);
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Skipping argon2 would make unknown users ~10× faster; equal work keeps the medians within a factor of 2.
    expect(median(unknown) / median(known)).toBeGreaterThan(0.5);
    expect(median(unknown) / median(known)).toBeLessThan(2);
  });
});
