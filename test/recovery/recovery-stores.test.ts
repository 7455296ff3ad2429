import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityStores, PasswordResetToken } from '../../identity/index.js';
import { addSeconds, newId, randomToken, sha256Hex } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';
import { createdAccount, createdOrganization } from '../storage/fixtures.js';

describe('recovery storage is race-safe on PostgreSQL', () => {
  let database: Database;
  let stores: IdentityStores;
  beforeAll(async () => {
    database = await openTestDatabase();
    stores = createIdentityStores(database);
  });
  afterAll(() => database?.close());

  const aToken = (accountId: string, now: Date): PasswordResetToken => ({ id: newId(), accountId, purpose: 'reset', tokenHash: sha256Hex(randomToken()), createdAt: now, expiresAt: addSeconds(now, 7200), consumedAt: null });

  it('allows exactly `max` of 40 concurrent hits in a window, and starts counting again in the next window', async () => {
    const now = new Date();
    const limit = { max: 5, windowSeconds: 60 };
    const allowed = await Promise.all(Array.from({ length: 40 }, () => stores.rateLimits.hit('test:burst', limit, now)));
    expect(allowed.filter(Boolean)).toHaveLength(5);
    expect(await stores.rateLimits.hit('test:burst', limit, addSeconds(now, 61))).toBe(true);
  });

  it('leaves exactly one usable link when 10 links are issued and delivered concurrently for one account', async () => {
    const account = await createdAccount(stores, await createdOrganization(stores));
    const now = new Date();
    const tokens = Array.from({ length: 10 }, () => aToken(account.id, now));
    await Promise.all(tokens.map(async (token) => {
      await stores.passwordResets.issue(token);
      await stores.passwordResets.supersedeOlder(token, now);
    }));
    const found = await Promise.all(tokens.map((token) => stores.passwordResets.findByHash(token.tokenHash)));
    expect(found.filter((f) => f && f.consumedAt === null)).toHaveLength(1);
  });

  it('leaves exactly the newest link usable when 10 links delivered at once each supersede the older ones', async () => {
    const account = await createdAccount(stores, await createdOrganization(stores));
    const start = new Date();
    const tokens = Array.from({ length: 10 }, (_, i) => aToken(account.id, addSeconds(start, i)));
    for (const token of tokens) await stores.passwordResets.issue(token);
    const usable = async () => (await Promise.all(tokens.map((token) => stores.passwordResets.findByHash(token.tokenHash)))).filter((f) => f && f.consumedAt === null);
    expect(await usable()).toHaveLength(10);
    await Promise.all(tokens.map((token) => stores.passwordResets.supersedeOlder(token, addSeconds(start, 20))));
    expect((await usable()).map((f) => f!.id)).toEqual([tokens.at(-1)!.id]);
    await stores.passwordResets.withdraw(tokens.at(-1)!.tokenHash, addSeconds(start, 21));
    expect(await usable()).toHaveLength(0);
  });

  it('supersedes a link whose insert lands after a newer link was already delivered (the race of two requests)', async () => {
    const account = await createdAccount(stores, await createdOrganization(stores));
    const start = new Date();
    const older = aToken(account.id, start);
    const newer = aToken(account.id, addSeconds(start, 1));
    await stores.passwordResets.issue(newer);
    await stores.passwordResets.supersedeOlder(newer, addSeconds(start, 2));
    await stores.passwordResets.issue(older);
    await stores.passwordResets.supersedeOlder(older, addSeconds(start, 3));
    expect((await stores.passwordResets.findByHash(older.tokenHash))?.consumedAt).not.toBeNull();
    expect((await stores.passwordResets.findByHash(newer.tokenHash))?.consumedAt).toBeNull();
  });

  it('consumes a link once, never after it expired, and writes only the winner\'s password hash', async () => {
    const account = await createdAccount(stores, await createdOrganization(stores));
    const now = new Date();
    const token = aToken(account.id, now);
    await stores.passwordResets.issue(token);
    expect(await stores.passwordResets.consumeAndSetPassword(token.tokenHash, 'hash-late', addSeconds(now, 7200))).toBeNull();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => stores.passwordResets.consumeAndSetPassword(token.tokenHash, `hash-${i}`, now)));
    const winner = results.findIndex((r) => r?.accountId === account.id);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect((await stores.accounts.findById(account.id))?.passwordHash).toBe(`hash-${winner}`);
  });
});
