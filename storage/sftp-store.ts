/**
 * {@link SftpStore} and the SFTP part of the change-request applier on PostgreSQL (tables `sftp_keys` and
 * `sftp_source_ranges`). Limits (keys and ranges per account) are counted under `SELECT … FOR UPDATE` of the
 * account row, so two confirmations racing for the last slot resolve to one; the partial unique indexes
 * `sftp_keys_account_fingerprint_key` and `sftp_source_ranges_account_cidr_key` back the duplicate checks.
 */
import { and, asc, count, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { SftpChangeApplier, SftpStore } from '../identity/index.js';
import { DomainError } from '../lib/index.js';
import type { Db, Executor } from './database.js';
import { isUuid, uniqueViolation } from './postgres-errors.js';
import { accounts, memberships, sftpKeys, sftpSourceRanges } from './schema.js';

const notRemoved = isNull(sftpKeys.removedAt);
const usable = (now: Date) => and(isNull(sftpKeys.removedAt), isNull(sftpKeys.disabledAt), or(isNull(sftpKeys.expiresAt), gt(sftpKeys.expiresAt, now)));

/** Creates the store over `db`. */
export function createSftpStore(db: Db): SftpStore {
  return {
    listKeys: (accountId) => (isUuid(accountId) ? db.select().from(sftpKeys).where(and(eq(sftpKeys.accountId, accountId), notRemoved)).orderBy(asc(sftpKeys.addedAt), asc(sftpKeys.id)) : Promise.resolve([])),

    listActiveKeys: (accountId, now) => (isUuid(accountId) ? db.select().from(sftpKeys).where(and(eq(sftpKeys.accountId, accountId), usable(now))).orderBy(asc(sftpKeys.addedAt), asc(sftpKeys.id)) : Promise.resolve([])),

    async findKeyById(accountId, keyId) {
      if (!isUuid(accountId) || !isUuid(keyId)) return null;
      const [row] = await db.select().from(sftpKeys).where(and(eq(sftpKeys.accountId, accountId), eq(sftpKeys.id, keyId)));
      return row ?? null;
    },

    async findKey(accountId, fingerprint) {
      if (!isUuid(accountId)) return null;
      // The row in force first (neither removed nor disabled), then the latest one.
      const [row] = await db
        .select()
        .from(sftpKeys)
        .where(and(eq(sftpKeys.accountId, accountId), eq(sftpKeys.fingerprint, fingerprint)))
        .orderBy(sql`(${sftpKeys.removedAt} is null and ${sftpKeys.disabledAt} is null) desc`, desc(sftpKeys.addedAt))
        .limit(1);
      return row ?? null;
    },

    listSourceRanges: (accountId) =>
      isUuid(accountId) ? db.select().from(sftpSourceRanges).where(and(eq(sftpSourceRanges.accountId, accountId), isNull(sftpSourceRanges.removedAt))).orderBy(asc(sftpSourceRanges.addedAt), asc(sftpSourceRanges.id)) : Promise.resolve([]),

    async findSourceRangeById(accountId, rangeId) {
      if (!isUuid(accountId) || !isUuid(rangeId)) return null;
      const [row] = await db.select().from(sftpSourceRanges).where(and(eq(sftpSourceRanges.accountId, accountId), eq(sftpSourceRanges.id, rangeId)));
      return row ?? null;
    },

    async recordKeyUse(keyId, ip, at) {
      if (!isUuid(keyId)) return;
      await db.update(sftpKeys).set({ lastUsedAt: at, lastUsedIp: ip }).where(eq(sftpKeys.id, keyId));
    },
  };
}

/** Locks the account row and checks its membership in `organizationId` holds `fn`. @returns the account's user ID. */
async function lockHolder(tx: Executor, accountId: string, organizationId: string, fn: string): Promise<string> {
  const [account] = await tx.select({ userId: accounts.userId }).from(accounts).where(eq(accounts.id, accountId)).for('update');
  if (!account) throw new DomainError('not_found', 'The account does not exist.');
  const [membership] = await tx.select({ functions: memberships.functions }).from(memberships).where(and(eq(memberships.accountId, accountId), eq(memberships.organizationId, organizationId)));
  if (!membership?.functions.includes(fn)) throw new DomainError('conflict', `${account.userId} does not hold ${fn} in this organization any more.`);
  return account.userId;
}

/** The SFTP changes of a confirmed change request, on `tx` (the transaction of its transition). */
export function createSftpApplier(tx: Executor): SftpChangeApplier {
  return {
    async addSftpKey(key, rules) {
      const userId = await lockHolder(tx, key.accountId, rules.organizationId, rules.requiredFunction);
      const inForce = and(eq(sftpKeys.accountId, key.accountId), isNull(sftpKeys.removedAt), isNull(sftpKeys.disabledAt));
      const [row] = await tx.select({ n: count() }).from(sftpKeys).where(inForce);
      const existing = row?.n ?? 0;
      if (existing >= rules.limit) throw new DomainError('quota_exceeded', `${userId} has ${existing} of ${rules.limit} SFTP keys; the limit is ${rules.limit}.`);
      try {
        await tx.insert(sftpKeys).values({ ...key, lastUsedAt: null, lastUsedIp: null, disabledAt: null, removedAt: null, removedByRequestId: null });
      } catch (error) {
        if (uniqueViolation(error) === null) throw error;
        throw new DomainError('conflict', `This key (${key.fingerprint}) is already registered for ${userId}.`, { fieldErrors: { publicKey: [`This key is already registered for ${userId}.`] } });
      }
    },

    async removeSftpKey(accountId, keyId, requestId, now) {
      const [before] = await tx.select().from(sftpKeys).where(and(eq(sftpKeys.accountId, accountId), eq(sftpKeys.id, keyId))).for('update');
      if (!before) throw new DomainError('not_found', 'The account has no such SFTP key.', { fieldErrors: { keyId: ['Choose a key of this account.'] } });
      if (before.removedAt) throw new DomainError('conflict', `The key ${before.fingerprint} was already removed.`);
      await tx.update(sftpKeys).set({ removedAt: now, removedByRequestId: requestId }).where(eq(sftpKeys.id, keyId));
      return before;
    },

    async disableSftpKeysWithout(accountId, sftpFunction, now) {
      const stillHeld = sql`exists (select 1 from ${memberships} where ${memberships.accountId} = ${accountId} and ${sftpFunction} = any(${memberships.functions}))`;
      const disabled = await tx
        .update(sftpKeys)
        .set({ disabledAt: now })
        .where(and(eq(sftpKeys.accountId, accountId), isNull(sftpKeys.removedAt), isNull(sftpKeys.disabledAt), sql`not ${stillHeld}`))
        .returning({ fingerprint: sftpKeys.fingerprint });
      return disabled.map((d) => d.fingerprint);
    },

    async addSftpSourceRange(range, rules) {
      const userId = await lockHolder(tx, range.accountId, rules.organizationId, rules.requiredFunction);
      const [row] = await tx.select({ n: count() }).from(sftpSourceRanges).where(and(eq(sftpSourceRanges.accountId, range.accountId), isNull(sftpSourceRanges.removedAt)));
      const existing = row?.n ?? 0;
      if (existing >= rules.limit) throw new DomainError('quota_exceeded', `${userId} has ${existing} of ${rules.limit} SFTP source addresses; the limit is ${rules.limit}.`);
      try {
        await tx.insert(sftpSourceRanges).values({ ...range, removedAt: null, removedByRequestId: null });
      } catch (error) {
        if (uniqueViolation(error) === null) throw error;
        throw new DomainError('conflict', `${range.cidr} is already allowed for ${userId}.`, { fieldErrors: { cidr: [`${range.cidr} is already allowed for ${userId}.`] } });
      }
    },

    async removeSftpSourceRange(accountId, rangeId, requestId, now) {
      const [before] = await tx.select().from(sftpSourceRanges).where(and(eq(sftpSourceRanges.accountId, accountId), eq(sftpSourceRanges.id, rangeId))).for('update');
      if (!before) throw new DomainError('not_found', 'The account has no such source address.', { fieldErrors: { rangeId: ['Choose an address of this account.'] } });
      if (before.removedAt) throw new DomainError('conflict', `${before.cidr} was already removed.`);
      await tx.update(sftpSourceRanges).set({ removedAt: now, removedByRequestId: requestId }).where(eq(sftpSourceRanges.id, rangeId));
      return before;
    },
  };
}
