import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailOtpChallenge, IdentityStores, OutboxMail } from '../../identity/index.js';
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
  const mailOf = (c: EmailOtpChallenge): OutboxMail => ({
    id: newId(),
    purpose: 'email_otp',
    reference: c.id,
    accountId,
    message: { to: 'someone@example.com', subject: 'your sign-in code', text: 'code 123456' },
    discardAfter: c.expiresAt,
    deliveredEvent: null,
  });
  const issue = (c: EmailOtpChallenge, replaces?: string) => {
    const mail = mailOf(c);
    return stores.emailOtps.issue(c, replaces, mail).then((issued) => ({ issued, mail }));
  };
  /** Leases and marks sent the given messages, as the worker does once SMTP accepted them. */
  const deliver = async (...mails: OutboxMail[]) => {
    const claimed = await stores.mailOutbox.claimDue({ limit: 10, leaseSeconds: 30, ids: mails.map((m) => m.id) });
    for (const mail of claimed) expect(await stores.mailOutbox.markSent(mail, new Date())).toBe(true);
    return claimed.length;
  };

  beforeAll(async () => {
    database = await openTestDatabase();
    stores = createIdentityStores(database);
    accountId = (await createdAccount(stores, await createdOrganization(stores))).id;
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('consumes a challenge for exactly one of 20 concurrent callers', async () => {
    const now = new Date();
    const issued = challenge(now, 'concurrent');
    await issue(issued);
    const results = await Promise.all(Array.from({ length: 20 }, () => stores.emailOtps.consume(issued.id, addSeconds(now, 5))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await stores.emailOtps.findLatest(accountId, 'concurrent'))?.consumedAt).toEqual(addSeconds(now, 5));
  });

  it('does not consume an expired challenge', async () => {
    const now = new Date();
    const issued = challenge(now, 'expired');
    await issue(issued);
    expect(await stores.emailOtps.consume(issued.id, addSeconds(now, 600))).toBe(false);
    expect((await stores.emailOtps.findLatest(accountId, 'expired'))?.consumedAt).toBeNull();
  });

  it('stores the code and its outbox message in one transaction, and reports the message state with the code', async () => {
    const issued = challenge(new Date(), 'with-mail');
    const { mail } = await issue(issued);
    expect(await stores.emailOtps.findLatest(accountId, 'with-mail')).toMatchObject({ id: issued.id, deliveredAt: null, mail: { status: 'pending', attempts: 0, lastError: null } });
    const [claimed] = await stores.mailOutbox.claimDue({ limit: 10, leaseSeconds: 30, ids: [mail.id] });
    await stores.mailOutbox.markRetry(claimed!, '451 mailbox unavailable', 60);
    expect(await stores.emailOtps.findLatest(accountId, 'with-mail')).toMatchObject({ deliveredAt: null, mail: { status: 'pending', attempts: 1, lastError: '451 mailbox unavailable' } });
  });

  it('keeps the earlier delivered code working until the new one is delivered, then only the newest works', async () => {
    const first = challenge(new Date('2030-01-01T00:00:00Z'), 'resend');
    const second = challenge(new Date('2030-01-01T00:01:00Z'), 'resend');
    const elsewhere = challenge(new Date('2030-01-01T00:00:30Z'), 'other-sign-in');
    const a = await issue(first);
    await deliver(a.mail);
    const other = await issue(elsewhere);
    await deliver(other.mail);
    const b = await issue(second, first.id);
    expect(b.issued).toBe(true);
    // The new code waits for delivery: both are unconsumed, the earlier one delivered.
    expect((await stores.emailOtps.listUnconsumed(accountId, 'resend')).map((c) => [c.id, c.deliveredAt !== null])).toEqual([
      [second.id, false],
      [first.id, true],
    ]);
    await deliver(b.mail);
    expect((await stores.emailOtps.listUnconsumed(accountId, 'resend')).map((c) => c.id)).toEqual([second.id]);
    expect(await stores.emailOtps.consume(first.id, first.createdAt)).toBe(false);
    expect((await stores.emailOtps.findLatest(accountId, 'other-sign-in'))?.consumedAt).toBeNull();
    expect(await stores.emailOtps.findLatest(accountId, 'never-issued')).toBeNull();
  });

  it('withdraws the message of an earlier code that was never delivered when a new one is issued', async () => {
    const first = challenge(new Date('2030-01-03T00:00:00Z'), 'pile-up');
    const second = challenge(new Date('2030-01-03T00:00:10Z'), 'pile-up');
    const a = await issue(first);
    await issue(second, first.id);
    expect(await stores.mailOutbox.claimDue({ limit: 10, leaseSeconds: 30, ids: [a.mail.id] })).toEqual([]);
    expect((await stores.emailOtps.listUnconsumed(accountId, 'pile-up')).map((c) => c.id)).toEqual([second.id]);
  });

  it('keeps an earlier code whose message a worker is sending right now', async () => {
    const first = challenge(new Date('2030-01-04T00:00:00Z'), 'in-flight');
    const second = challenge(new Date('2030-01-04T00:00:10Z'), 'in-flight');
    const a = await issue(first);
    expect(await stores.mailOutbox.claimDue({ limit: 10, leaseSeconds: 30, ids: [a.mail.id] })).toHaveLength(1);
    await issue(second, first.id);
    // Its email may arrive: the code stays usable until the newer one is delivered.
    expect((await stores.emailOtps.listUnconsumed(accountId, 'in-flight')).map((c) => c.id)).toEqual([second.id, first.id]);
    expect(await stores.mailOutbox.markSent(a.mail, new Date())).toBe(true);
    expect((await stores.emailOtps.findLatest(accountId, 'in-flight'))?.id).toBe(second.id);
    expect((await stores.emailOtps.listUnconsumed(accountId, 'in-flight')).find((c) => c.id === first.id)?.deliveredAt).toBeInstanceOf(Date);
  });

  it('lets exactly one of 10 concurrent resends replace the code they all saw', async () => {
    const first = challenge(new Date('2030-01-02T00:00:00Z'), 'resend-race');
    await issue(first);
    const resends = Array.from({ length: 10 }, () => challenge(new Date('2030-01-02T00:01:00Z'), 'resend-race'));
    const issued = await Promise.all(resends.map((r) => issue(r, first.id)));
    expect(issued.filter((i) => i.issued)).toHaveLength(1);
    const winner = resends[issued.findIndex((i) => i.issued)]!;
    expect((await stores.emailOtps.findLatest(accountId, 'resend-race'))?.id).toBe(winner.id);
    expect((await issue(challenge(new Date('2030-01-02T00:02:00Z'), 'resend-race'), first.id)).issued).toBe(false);
  });
});
