import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailOtpChallenge, IdentityStores } from '../../identity/index.js';
import { addSeconds, newId, sha256Hex } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';
import { createdAccount, createdOrganization } from './fixtures.js';

describe('emailed one-time codes in PostgreSQL', () => {
  let database: Database;
  let stores: IdentityStores;
  let accountId: string;

  const challenge = (createdAt: Date, bindingId = 'interaction-1'): EmailOtpChallenge => ({
    id: newId(),
    accountId,
    bindingId,
    codeHash: sha256Hex('123456'),
    createdAt,
    expiresAt: addSeconds(createdAt, 600),
    consumedAt: null,
  });

  beforeAll(async () => {
    database = await openTestDatabase();
    stores = createIdentityStores(database);
    accountId = (await createdAccount(stores, await createdOrganization(stores))).id;
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('consumes a challenge for exactly one of 20 concurrent callers', async () => {
    const now = new Date();
    const issued = challenge(now, 'concurrent');
    await stores.emailOtps.issue(issued);
    const results = await Promise.all(Array.from({ length: 20 }, () => stores.emailOtps.consume(issued.id, addSeconds(now, 5))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await stores.emailOtps.findLatest(accountId, 'concurrent'))?.consumedAt).toEqual(addSeconds(now, 5));
  });

  it('does not consume an expired challenge', async () => {
    const now = new Date();
    const issued = challenge(now, 'expired');
    await stores.emailOtps.issue(issued);
    expect(await stores.emailOtps.consume(issued.id, addSeconds(now, 600))).toBe(false);
    expect((await stores.emailOtps.findLatest(accountId, 'expired'))?.consumedAt).toBeNull();
  });

  it('supersedes the earlier codes of the same sign-in when a new one is issued, and finds the newest', async () => {
    const first = challenge(new Date('2030-01-01T00:00:00Z'), 'resend');
    const second = challenge(new Date('2030-01-01T00:01:00Z'), 'resend');
    const elsewhere = challenge(new Date('2030-01-01T00:00:30Z'), 'other-sign-in');
    await stores.emailOtps.issue(first);
    await stores.emailOtps.issue(elsewhere);
    await stores.emailOtps.issue(second);
    expect(await stores.emailOtps.findLatest(accountId, 'resend')).toEqual(second);
    expect(await stores.emailOtps.consume(first.id, first.createdAt)).toBe(false);
    expect((await stores.emailOtps.findLatest(accountId, 'other-sign-in'))?.consumedAt).toBeNull();
    expect(await stores.emailOtps.findLatest(accountId, 'never-issued')).toBeNull();
  });

  it('lets exactly one of 10 concurrent resends replace the code they all saw', async () => {
    const first = challenge(new Date('2030-01-02T00:00:00Z'), 'resend-race');
    await stores.emailOtps.issue(first);
    const resends = Array.from({ length: 10 }, () => challenge(new Date('2030-01-02T00:01:00Z'), 'resend-race'));
    const issued = await Promise.all(resends.map((r) => stores.emailOtps.issue(r, first.id)));
    expect(issued.filter(Boolean)).toHaveLength(1);
    const winner = resends[issued.indexOf(true)]!;
    expect((await stores.emailOtps.findLatest(accountId, 'resend-race'))?.id).toBe(winner.id);
    expect(await stores.emailOtps.issue(challenge(new Date('2030-01-02T00:02:00Z'), 'resend-race'), first.id)).toBe(false);
  });
});
