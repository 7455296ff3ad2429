import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityStores, LockoutPolicy } from '../../identity/index.js';
import { addSeconds } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';
import { createdAccount, createdOrganization } from './fixtures.js';

const policy: LockoutPolicy = { maxFailures: 5, windowSeconds: 1800, maxConsecutiveFailures: 20 };

describe('lockout accounting in PostgreSQL (design/security.md §2)', () => {
  let database: Database;
  let stores: IdentityStores;
  const newAccountId = async () => (await createdAccount(stores, await createdOrganization(stores))).id;
  /** Reserves `count` attempts one after the other at `at`; @returns how many were granted. */
  const reserveMany = async (accountId: string, count: number, at: Date, p: LockoutPolicy = policy) => {
    let granted = 0;
    for (let i = 0; i < count; i++) if ((await stores.lockouts.reserveAttempt(accountId, p, at)).reserved) granted++;
    return granted;
  };

  beforeAll(async () => {
    database = await openTestDatabase();
    stores = createIdentityStores(database);
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('reserves exactly maxFailures of 200 concurrent attempts in one window', async () => {
    const accountId = await newAccountId();
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 200 }, () => stores.lockouts.reserveAttempt(accountId, policy, now)));
    expect(results.filter((r) => r.reserved)).toHaveLength(policy.maxFailures);
    expect((await stores.lockouts.find(accountId))?.attempts).toBe(policy.maxFailures);
  });

  it('lets an attempt count until it is windowSeconds old', async () => {
    const accountId = await newAccountId();
    const start = new Date('2030-01-01T00:00:00Z');
    expect(await reserveMany(accountId, policy.maxFailures, start)).toBe(policy.maxFailures);
    expect((await stores.lockouts.reserveAttempt(accountId, policy, addSeconds(start, policy.windowSeconds - 1))).reserved).toBe(false);
    const restart = addSeconds(start, policy.windowSeconds);
    expect(await stores.lockouts.reserveAttempt(accountId, policy, restart)).toEqual({ reserved: true, locked: false });
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 1, windowStartedAt: restart, consecutiveFailures: policy.maxFailures + 1 });
  });

  it('counts over a sliding window: 4 failures, then 4 more after the window start moved, lock (issue 8 §3)', async () => {
    // The probe, with a 20 s window: one failure at 0 s and three at 15 s; at 21 s a fixed window would start
    // afresh with five more tries. Sliding, the three at 15 s still count: only two more are checked, then it locks.
    const accountId = await newAccountId();
    const sliding: LockoutPolicy = { maxFailures: 5, windowSeconds: 20, maxConsecutiveFailures: 20 };
    const start = new Date('2030-01-02T00:00:00Z');
    expect(await reserveMany(accountId, 1, start, sliding)).toBe(1);
    expect(await reserveMany(accountId, 3, addSeconds(start, 15), sliding)).toBe(3);
    expect(await stores.lockouts.lockIfExhausted(accountId, sliding, addSeconds(start, 15))).toBe(false);
    const later = addSeconds(start, 21);
    expect(await reserveMany(accountId, 4, later, sliding)).toBe(2);
    expect(await stores.lockouts.lockIfExhausted(accountId, sliding, later)).toBe(true);
    expect(await stores.lockouts.reserveAttempt(accountId, sliding, addSeconds(start, 3600))).toEqual({ reserved: false, locked: true });
  });

  it('locks after maxConsecutiveFailures however slowly they come: 4 failures in each of several windows (NIST SP 800-63B §5.2.2)', async () => {
    const accountId = await newAccountId();
    const slow: LockoutPolicy = { maxFailures: 5, windowSeconds: 20, maxConsecutiveFailures: 12 };
    const start = new Date('2030-01-03T00:00:00Z');
    for (let batch = 0; batch < 3; batch++) {
      const at = addSeconds(start, 21 * batch);
      expect(await reserveMany(accountId, 4, at, slow)).toBe(4);
      // Each batch alone stays under the window's limit; the third reaches the consecutive limit and locks.
      expect(await stores.lockouts.lockIfExhausted(accountId, slow, at)).toBe(batch === 2);
    }
    expect((await stores.lockouts.find(accountId))?.consecutiveFailures).toBe(12);
    expect(await stores.lockouts.reserveAttempt(accountId, slow, addSeconds(start, 3600))).toEqual({ reserved: false, locked: true });
  });

  it('never grants more than the rest of the sliding window to 100 concurrent attempts, where a fixed window would start afresh', async () => {
    const accountId = await newAccountId();
    const sliding: LockoutPolicy = { maxFailures: 5, windowSeconds: 20, maxConsecutiveFailures: 20 };
    const start = new Date('2030-01-05T00:00:00Z');
    await reserveMany(accountId, 1, start, sliding);
    await reserveMany(accountId, 2, addSeconds(start, 15), sliding);
    const results = await Promise.all(Array.from({ length: 100 }, () => stores.lockouts.reserveAttempt(accountId, sliding, addSeconds(start, 21))));
    expect(results.filter((r) => r.reserved)).toHaveLength(3);
  });

  it('never grants more than the remaining consecutive budget to 100 concurrent attempts', async () => {
    const accountId = await newAccountId();
    const consecutive: LockoutPolicy = { maxFailures: 5, windowSeconds: 20, maxConsecutiveFailures: 10 };
    const start = new Date('2030-01-06T00:00:00Z');
    await reserveMany(accountId, 4, start, consecutive);
    await reserveMany(accountId, 4, addSeconds(start, 21), consecutive);
    const results = await Promise.all(Array.from({ length: 100 }, () => stores.lockouts.reserveAttempt(accountId, consecutive, addSeconds(start, 42))));
    expect(results.filter((r) => r.reserved)).toHaveLength(2);
    expect((await stores.lockouts.find(accountId))?.consecutiveFailures).toBe(10);
  });

  it('locks once when the budget is exhausted, reports the lock on later reservations, and unlocks', async () => {
    const accountId = await newAccountId();
    const now = new Date('2030-02-01T00:00:00Z');
    await reserveMany(accountId, policy.maxFailures - 1, now);
    expect(await stores.lockouts.lockIfExhausted(accountId, policy, now)).toBe(false);
    await stores.lockouts.reserveAttempt(accountId, policy, now);
    const locks = await Promise.all(Array.from({ length: 10 }, () => stores.lockouts.lockIfExhausted(accountId, policy, now)));
    expect(locks.filter(Boolean)).toHaveLength(1);
    expect(await stores.lockouts.reserveAttempt(accountId, policy, now)).toEqual({ reserved: false, locked: true });
    // A locked account gets no new budget in a later window either (only the rare locked check, see sign-in).
    expect(await stores.lockouts.reserveAttempt(accountId, policy, addSeconds(now, policy.windowSeconds))).toEqual({ reserved: false, locked: true });
    expect(await stores.lockouts.unlock(accountId, now)).toBe(true);
    expect(await stores.lockouts.unlock(accountId, now)).toBe(false);
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 0, lockedAt: null, consecutiveFailures: 0 });
    expect(await reserveMany(accountId, policy.maxFailures + 1, now)).toBe(policy.maxFailures);
  });

  it('gives back the reservation made at a given time, never another one and never below zero', async () => {
    const accountId = await newAccountId();
    const sliding: LockoutPolicy = { maxFailures: 5, windowSeconds: 20, maxConsecutiveFailures: 20 };
    const start = new Date('2030-03-01T00:00:00Z');
    await stores.lockouts.reserveAttempt(accountId, sliding, start); // a wrong password: stays counted
    const right = addSeconds(start, 10);
    await stores.lockouts.reserveAttempt(accountId, sliding, right); // the right one: given back
    await stores.lockouts.releaseAttempt(accountId, right);
    await stores.lockouts.releaseAttempt(accountId, right);
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 1, consecutiveFailures: 1 });
    // At 21 s the wrong one has aged out and the given-back one is gone: a full budget again.
    expect(await reserveMany(accountId, 6, addSeconds(start, 21), sliding)).toBe(5);
  });

  it('resets both counts after a completed sign-in, without unlocking', async () => {
    const accountId = await newAccountId();
    const now = new Date('2030-03-02T00:00:00Z');
    await reserveMany(accountId, policy.maxFailures, now);
    await stores.lockouts.lockIfExhausted(accountId, policy, now);
    const later = addSeconds(now, 60);
    await stores.lockouts.reset(accountId, later);
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 0, windowStartedAt: later, lockedAt: now, consecutiveFailures: 0 });
  });
});
