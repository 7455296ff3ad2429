import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stampEvent, type EmailOtpChallenge, type IdentityStores, type LockoutPolicy, type Organization } from '../../identity/index.js';
import { addSeconds, newId, sha256Hex } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';
import { createdAccount, createdOrganization } from './fixtures.js';

/**
 * EmailOtpStore.checkCode: the sign-in's code check with its lockout reservation, the reset of a right code and
 * the `account.signed_in` record in one statement (issue 10 §2). The lockout guarantees of reserveAttempt hold.
 */
describe('the emailed code check with its lockout attempt in one statement', () => {
  let database: Database;
  let stores: IdentityStores;
  let organization: Organization;
  const policy: LockoutPolicy = { maxFailures: 5, windowSeconds: 900, maxConsecutiveFailures: 20 };
  const RIGHT = sha256Hex('123456');

  beforeAll(async () => {
    database = await openTestDatabase();
    stores = createIdentityStores(database);
    organization = await createdOrganization(stores);
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  async function accountWithCode(bindingId: string, now: Date): Promise<{ accountId: string; challenge: EmailOtpChallenge }> {
    const accountId = (await createdAccount(stores, organization)).id;
    const challenge = { id: newId(), accountId, bindingId, codeHash: RIGHT, createdAt: now, expiresAt: addSeconds(now, 600), consumedAt: null };
    const mail = { id: newId(), purpose: 'email_otp' as const, reference: challenge.id, accountId, message: { to: 'x@example.com', subject: 's', text: 't' }, discardAfter: challenge.expiresAt, deliveredEvent: null };
    expect(await stores.emailOtps.issue(challenge, undefined, mail)).toBe(true);
    return { accountId, challenge };
  }

  it('checks at most maxFailures of 30 concurrent wrong codes and consumes nothing', async () => {
    const now = new Date();
    const { accountId } = await accountWithCode('wrong-burst', now);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => stores.emailOtps.checkCode(accountId, 'wrong-burst', sha256Hex(`wrong-${i}`), now, { policy })));
    expect(results.filter((r) => r.reserved)).toHaveLength(5);
    expect(results.filter((r) => !r.reserved).every((r) => r.candidates.length === 0 && r.consumedId === null)).toBe(true);
    expect(results.every((r) => r.consumedId === null)).toBe(true);
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 5, consecutiveFailures: 5 });
    expect((await stores.emailOtps.listUnconsumed(accountId, 'wrong-burst'))).toHaveLength(1);
  });

  it('consumes the right code for exactly one of 20 concurrent callers and records one sign-in, with the view of the account', async () => {
    const now = new Date();
    const { accountId, challenge } = await accountWithCode('right-burst', now);
    await stores.lockouts.reserveAttempt(accountId, policy, addSeconds(now, -10)); // an earlier failure, to be reset
    const results = await Promise.all(Array.from({ length: 20 }, () => {
      const signedIn = stampEvent({ type: 'account.signed_in', accountId, data: { amr: ['pwd', 'otp', 'mfa'], factor: 'otp', clientId: null } }, now);
      return stores.emailOtps.checkCode(accountId, 'right-burst', RIGHT, now, { policy, signedIn });
    }));
    expect(results.filter((r) => r.consumedId === challenge.id)).toHaveLength(1);
    const winner = results.find((r) => r.consumedId === challenge.id)!;
    expect(winner.view?.account.id).toBe(accountId);
    expect(winner.view?.memberships.map((m) => m.organizationId)).toEqual([organization.id]);
    expect(await stores.audit.list({ accountId, type: 'account.signed_in' })).toHaveLength(1);
    // The others found the code consumed (or were refused): none consumed anything.
    expect(results.filter((r) => r.consumedId !== null)).toHaveLength(1);
  });

  it('resets the window and the consecutive count with the right code', async () => {
    const now = new Date();
    const { accountId, challenge } = await accountWithCode('reset', now);
    for (let i = 0; i < 3; i++) await stores.lockouts.reserveAttempt(accountId, policy, addSeconds(now, -10 - i));
    const result = await stores.emailOtps.checkCode(accountId, 'reset', RIGHT, now, { policy });
    expect(result).toMatchObject({ reserved: true, consumedId: challenge.id });
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 0, consecutiveFailures: 0, lockedAt: null });
  });

  it('refuses a locked account without checking the code, and says it is locked', async () => {
    const now = new Date();
    const { accountId } = await accountWithCode('locked', now);
    for (let i = 0; i < 5; i++) await stores.lockouts.reserveAttempt(accountId, policy, now);
    expect(await stores.lockouts.lockIfExhausted(accountId, policy, now)).toBe(true);
    const signedIn = stampEvent({ type: 'account.signed_in', accountId, data: { amr: ['pwd', 'otp', 'mfa'], factor: 'otp', clientId: null } }, now);
    const result = await stores.emailOtps.checkCode(accountId, 'locked', RIGHT, now, { policy, signedIn });
    expect(result).toMatchObject({ reserved: false, locked: true, candidates: [], consumedId: null });
    expect(await stores.emailOtps.listUnconsumed(accountId, 'locked')).toHaveLength(1);
    expect(await stores.audit.list({ accountId, type: 'account.signed_in' })).toHaveLength(0);
  });

  it('counts an expired right code as a failure and consumes nothing', async () => {
    const now = new Date();
    const { accountId } = await accountWithCode('expired', now);
    const result = await stores.emailOtps.checkCode(accountId, 'expired', RIGHT, addSeconds(now, 601), { policy });
    expect(result).toMatchObject({ reserved: true, consumedId: null });
    expect(result.candidates).toHaveLength(1);
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 1, consecutiveFailures: 1 });
  });
});
