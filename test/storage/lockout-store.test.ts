import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityStores } from '../../identity/index.js';
import { addSeconds } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';
import { createdAccount, createdOrganization } from './fixtures.js';

const policy = { maxFailures: 5, windowSeconds: 1800 };

describe('lockout accounting in PostgreSQL (design/security.md §2)', () => {
  let database: Database;
  let stores: IdentityStores;
  const newAccountId = async () => (await createdAccount(stores, await createdOrganization(stores))).id;

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

  it('starts a new window once the current one is windowSeconds old', async () => {
    const accountId = await newAccountId();
    const start = new Date('2030-01-01T00:00:00Z');
    for (let i = 0; i < policy.maxFailures; i++) expect((await stores.lockouts.reserveAttempt(accountId, policy, start)).reserved).toBe(true);
    expect((await stores.lockouts.reserveAttempt(accountId, policy, addSeconds(start, policy.windowSeconds - 1))).reserved).toBe(false);
    const restart = addSeconds(start, policy.windowSeconds);
    expect(await stores.lockouts.reserveAttempt(accountId, policy, restart)).toEqual({ reserved: true, locked: false });
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 1, windowStartedAt: restart });
  });

  it('locks once when the budget is exhausted, reports the lock on later reservations, and unlocks', async () => {
    const accountId = await newAccountId();
    const now = new Date('2030-02-01T00:00:00Z');
    for (let i = 0; i < policy.maxFailures - 1; i++) await stores.lockouts.reserveAttempt(accountId, policy, now);
    expect(await stores.lockouts.lockIfExhausted(accountId, policy.maxFailures, now)).toBe(false);
    await stores.lockouts.reserveAttempt(accountId, policy, now);
    const locks = await Promise.all(Array.from({ length: 10 }, () => stores.lockouts.lockIfExhausted(accountId, policy.maxFailures, now)));
    expect(locks.filter(Boolean)).toHaveLength(1);
    expect(await stores.lockouts.reserveAttempt(accountId, policy, now)).toEqual({ reserved: false, locked: true });
    // A locked account gets no new budget in a later window either (only the rare locked check, see sign-in).
    expect(await stores.lockouts.reserveAttempt(accountId, policy, addSeconds(now, policy.windowSeconds))).toEqual({ reserved: false, locked: true });
    expect(await stores.lockouts.unlock(accountId, now)).toBe(true);
    expect(await stores.lockouts.unlock(accountId, now)).toBe(false);
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 0, lockedAt: null });
  });

  it('gives back a reservation without going below zero, and resets the count without unlocking', async () => {
    const accountId = await newAccountId();
    const now = new Date('2030-03-01T00:00:00Z');
    await stores.lockouts.reserveAttempt(accountId, policy, now);
    await stores.lockouts.releaseAttempt(accountId);
    await stores.lockouts.releaseAttempt(accountId);
    expect((await stores.lockouts.find(accountId))?.attempts).toBe(0);
    for (let i = 0; i < policy.maxFailures; i++) await stores.lockouts.reserveAttempt(accountId, policy, now);
    await stores.lockouts.lockIfExhausted(accountId, policy.maxFailures, now);
    const later = addSeconds(now, 60);
    await stores.lockouts.reset(accountId, later);
    expect(await stores.lockouts.find(accountId)).toMatchObject({ attempts: 0, windowStartedAt: later, lockedAt: now });
  });
});
