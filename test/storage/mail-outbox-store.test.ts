import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimedMail, IdentityStores, OutboxMail } from '../../identity/index.js';
import { newId } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { mailOutbox } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';

describe('the mail outbox in PostgreSQL', () => {
  let database: Database;
  let stores: IdentityStores;

  const aMail = (subject = 'hello'): OutboxMail => ({
    id: newId(),
    purpose: 'notification',
    reference: null,
    accountId: null,
    message: { to: 'jane.chan@example.com', subject, text: 'secret code 123456' },
    discardAfter: null,
    deliveredEvent: null,
  });
  const claim = (ids?: string[], limit = 100) => stores.mailOutbox.claimDue({ limit, leaseSeconds: 30, ids });

  beforeAll(async () => {
    database = await openTestDatabase();
    stores = createIdentityStores(database);
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('leases each of 30 due messages to exactly one of 6 workers claiming at once (FOR UPDATE SKIP LOCKED)', async () => {
    const mails = Array.from({ length: 30 }, (_, i) => aMail(`race ${i}`));
    for (const mail of mails) await stores.mailOutbox.enqueue(mail, new Date());
    const ids = mails.map((m) => m.id);
    const claims = await Promise.all(Array.from({ length: 6 }, () => claim(ids, 10)));
    const leased = claims.flat().map((m) => m.id);
    expect(new Set(leased).size).toBe(leased.length);
    // Whatever the interleaving, a second round leases the rest, and nothing twice.
    const rest = (await Promise.all(Array.from({ length: 6 }, () => claim(ids, 10)))).flat().map((m) => m.id);
    expect([...leased, ...rest].sort()).toEqual([...ids].sort());
    expect(await claim(ids)).toEqual([]);
  });

  it('opens what it sealed: the body is not stored in clear, and a claim returns it with the attempt counted', async () => {
    const mail = aMail('sealed');
    await stores.mailOutbox.enqueue(mail, new Date());
    const [row] = await database.db.select().from(mailOutbox).where((await import('drizzle-orm')).eq(mailOutbox.id, mail.id));
    expect(row?.message).not.toContain('123456');
    expect(row?.message).not.toContain('jane.chan');
    const [claimed] = (await claim([mail.id])) as ClaimedMail[];
    expect(claimed).toMatchObject({ id: mail.id, attempts: 1, message: mail.message });
  });

  it('retries a failed attempt only after its back-off, and lists it as undelivered with the error', async () => {
    const mail = aMail('retry');
    await stores.mailOutbox.enqueue(mail, new Date());
    await stores.mailOutbox.markRetry((await claim([mail.id]))[0]!, '451 4.3.0 try later', 0.5);
    expect(await claim([mail.id])).toEqual([]);
    const listed = (await stores.mailOutbox.listUndelivered()).find((m) => m.id === mail.id);
    expect(listed).toMatchObject({ status: 'pending', attempts: 1, lastError: '451 4.3.0 try later', to: 'jane.chan@example.com', subject: 'retry' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await claim([mail.id]))[0]).toMatchObject({ id: mail.id, attempts: 2 });
  });

  it('gives a leased message to another worker only once its lease ran out', async () => {
    const mail = aMail('lease');
    await stores.mailOutbox.enqueue(mail, new Date());
    expect(await stores.mailOutbox.claimDue({ limit: 1, leaseSeconds: 0.5, ids: [mail.id] })).toHaveLength(1);
    expect(await claim([mail.id])).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await claim([mail.id])).toHaveLength(1);
  });

  it('marks a message sent once, erasing its body; a failed one keeps only recipient and subject', async () => {
    const sent = aMail('sent');
    const failed = aMail('failed');
    for (const mail of [sent, failed]) await stores.mailOutbox.enqueue(mail, new Date());
    const claimed = await claim([sent.id, failed.id]);
    expect(await stores.mailOutbox.markSent(sent, new Date())).toBe(true);
    expect(await stores.mailOutbox.markSent(sent, new Date())).toBe(false);
    await stores.mailOutbox.markFailed(claimed.find((m) => m.id === failed.id)!, '550 no such user', new Date());
    const { eq } = await import('drizzle-orm');
    const [sentRow] = await database.db.select().from(mailOutbox).where(eq(mailOutbox.id, sent.id));
    expect(sentRow).toMatchObject({ status: 'sent', message: '', lockedUntil: null });
    const listed = await stores.mailOutbox.listUndelivered();
    expect(listed.find((m) => m.id === sent.id)).toBeUndefined();
    expect(listed.find((m) => m.id === failed.id)).toMatchObject({ status: 'failed', lastError: '550 no such user', to: 'jane.chan@example.com', subject: 'failed' });
    expect(await claim([failed.id])).toEqual([]);
  });

  it('hands a message it cannot open (its key is gone) to the worker as unreadable instead of failing the claim', async () => {
    const mail = aMail('other key');
    const otherKey = createIdentityStores(database, { current: Buffer.alloc(32, 7) });
    await otherKey.mailOutbox.enqueue(mail, new Date());
    const [claimed] = await claim([mail.id]);
    expect(claimed).toMatchObject({ id: mail.id, unreadable: expect.stringContaining('ENCRYPTION_KEY') });
  });
});
