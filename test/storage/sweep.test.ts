import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityStores } from '../../identity/index.js';
import { addSeconds, newId, randomToken, type Clock } from '../../lib/index.js';
import { createIdentityStores, createOidcAdapter, EXPIRED_OTP_RETENTION_SECONDS, FINISHED_MAIL_RETENTION_SECONDS, RATE_LIMIT_RETENTION_SECONDS, revokeGrant, sweepExpired, type Database } from '../../storage/index.js';
import { mailOutbox, passwordResetTokens, rateLimitCounters, webauthnChallenges } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';
import { createdAccount, createdOrganization } from './fixtures.js';

describe('sweeping expired rows', () => {
  let database: Database;
  let stores: IdentityStores;
  let now = new Date('2030-01-01T00:00:00Z');
  const clock: Clock = { now: () => now };

  beforeAll(async () => {
    database = await openTestDatabase();
    stores = createIdentityStores(database);
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('deletes expired oidc rows, expired tombstones and long-expired codes, and keeps everything live', async () => {
    const Adapter = createOidcAdapter(database, { encryptionKey: Buffer.alloc(32, 1), clock });
    const start = now;
    await new Adapter('Interaction').upsert('short', { jti: 'short', kind: 'Interaction' }, 60);
    await new Adapter('Session').upsert('long', { jti: 'long', kind: 'Session', uid: 'u' }, 3600);
    await new Adapter('Grant').upsert('forever', { jti: 'forever', kind: 'Grant' }, undefined);
    await revokeGrant(database, 'revoked-grant', start, 120);
    const accountId = (await createdAccount(stores, await createdOrganization(stores))).id;
    const otp = { id: newId(), accountId, bindingId: 'b', codeHash: randomToken(), createdAt: start, expiresAt: addSeconds(start, 600), consumedAt: null };
    await stores.emailOtps.issue(otp, undefined, { id: newId(), purpose: 'email_otp', reference: otp.id, accountId, message: { to: 'a@example.com', subject: 's', text: 't' }, discardAfter: null, deliveredEvent: null });

    expect(await sweepExpired(database, addSeconds(start, 59))).toEqual({ oidcModels: 0, revokedGrants: 0, emailOtpChallenges: 0, passwordResetTokens: 0, rateLimitCounters: 0, mailOutbox: 0, webauthnChallenges: 0 });
    now = addSeconds(start, 600 + EXPIRED_OTP_RETENTION_SECONDS);
    expect(await sweepExpired(database, addSeconds(start, 120))).toEqual({ oidcModels: 1, revokedGrants: 1, emailOtpChallenges: 0, passwordResetTokens: 0, rateLimitCounters: 0, mailOutbox: 0, webauthnChallenges: 0 });
    expect(await sweepExpired(database, now)).toEqual({ oidcModels: 1, revokedGrants: 0, emailOtpChallenges: 1, passwordResetTokens: 0, rateLimitCounters: 0, mailOutbox: 0, webauthnChallenges: 0 });
    expect(await new Adapter('Grant').find('forever')).toMatchObject({ jti: 'forever' });
    expect(await stores.emailOtps.findLatest(accountId, 'b')).toBeNull();
  });

  it('deletes long-expired password-reset links and old rate-limit counters, and keeps recent ones', async () => {
    const start = new Date('2031-01-01T00:00:00Z');
    const accountId = (await createdAccount(stores, await createdOrganization(stores))).id;
    const link = (id: string, expiresAt: Date) => ({ id, accountId, purpose: 'reset' as const, tokenHash: randomToken(), createdAt: start, expiresAt, consumedAt: null });
    await database.db.insert(passwordResetTokens).values([link(newId(), start), link(newId(), addSeconds(start, RATE_LIMIT_RETENTION_SECONDS))]);
    await database.db.insert(rateLimitCounters).values([
      { key: 'test:old', windowStartedAt: start, count: 3 },
      { key: 'test:recent', windowStartedAt: addSeconds(start, RATE_LIMIT_RETENTION_SECONDS), count: 1 },
    ]);
    const later = addSeconds(start, RATE_LIMIT_RETENTION_SECONDS + 1);
    expect(await sweepExpired(database, later)).toMatchObject({ passwordResetTokens: 1, rateLimitCounters: 1 });
    expect(await database.db.select({ key: rateLimitCounters.key }).from(rateLimitCounters)).toEqual([{ key: 'test:recent' }]);
    expect(await database.db.select({ id: passwordResetTokens.id }).from(passwordResetTokens)).toHaveLength(1);
  });

  it('deletes outbox messages sent or given up long ago, and never a pending one however old', async () => {
    const start = new Date('2032-01-01T00:00:00Z');
    const row = (status: 'pending' | 'sent' | 'failed', createdAt: Date) => ({ id: newId(), purpose: 'test', message: 'sealed', status, createdAt, nextAttemptAt: createdAt });
    const kept = [row('pending', start), row('sent', addSeconds(start, FINISHED_MAIL_RETENTION_SECONDS))];
    await database.db.insert(mailOutbox).values([row('sent', start), row('failed', start), ...kept]);
    expect(await sweepExpired(database, addSeconds(start, FINISHED_MAIL_RETENTION_SECONDS + 1))).toMatchObject({ mailOutbox: 2 });
    const left = await database.db.select({ id: mailOutbox.id }).from(mailOutbox).where(inArray(mailOutbox.id, kept.map((k) => k.id)));
    expect(left).toHaveLength(2);
  });

  it('deletes expired WebAuthn challenges and keeps live ones', async () => {
    const start = new Date('2033-01-01T00:00:00Z');
    await database.db.insert(webauthnChallenges).values([
      { sessionUid: 'sweep-expired', purpose: 'passwordless', accountId: null, challenge: randomToken(), expiresAt: start },
      { sessionUid: 'sweep-live', purpose: 'passwordless', accountId: null, challenge: randomToken(), expiresAt: addSeconds(start, 300) },
    ]);
    expect(await sweepExpired(database, addSeconds(start, 1))).toMatchObject({ webauthnChallenges: 1 });
    expect(await database.db.select({ uid: webauthnChallenges.sessionUid }).from(webauthnChallenges).where(inArray(webauthnChallenges.sessionUid, ['sweep-expired', 'sweep-live']))).toEqual([{ uid: 'sweep-live' }]);
  });
});
