/**
 * What ECP SFTP access needs from storage: reads for the console and the SFTP gateway's decision, the
 * gateway's "last used" stamp, and (inside a confirmed change request's transaction) the registrations
 * themselves, each limit enforced under a lock of the account row so concurrent confirmations cannot exceed it.
 */
import type { SftpKey, SftpSourceRange } from './model.js';

/** SFTP keys and source ranges on PostgreSQL. */
export interface SftpStore {
  /** The account's keys that are not removed (usable, expired and disabled), oldest first. */
  listKeys(accountId: string): Promise<SftpKey[]>;
  /** The account's usable keys at `now`: not removed, not disabled, not expired. Oldest first. */
  listActiveKeys(accountId: string, now: Date): Promise<SftpKey[]>;
  /** One key of the account by id (any state). @returns null when unknown or malformed. */
  findKeyById(accountId: string, keyId: string): Promise<SftpKey | null>;
  /**
   * The account's key with `fingerprint`: the usable row when there is one, else the most recently added row in
   * any state (so a refusal can say removed, disabled or expired). @returns null when the account never had it.
   */
  findKey(accountId: string, fingerprint: string): Promise<SftpKey | null>;
  /** The account's source ranges that are not removed, oldest first. */
  listSourceRanges(accountId: string): Promise<SftpSourceRange[]>;
  /** One range of the account by id (any state). @returns null when unknown or malformed. */
  findSourceRangeById(accountId: string, rangeId: string): Promise<SftpSourceRange | null>;
  /** Stamps the key's `last_used_at` (and the source address) after the gateway let it in. Unknown ids are ignored. */
  recordKeyUse(keyId: string, ip: string | null, at: Date): Promise<void>;
}

/** A key as a confirmed `register_sftp_key` request adds it. */
export type NewSftpKey = Omit<SftpKey, 'lastUsedAt' | 'lastUsedIp' | 'disabledAt' | 'removedAt' | 'removedByRequestId'>;

/** A range as a confirmed `add_sftp_source_range` request adds it. */
export type NewSftpSourceRange = Omit<SftpSourceRange, 'removedAt' | 'removedByRequestId'>;

/** The SFTP changes a confirmed change request applies, inside its transaction (part of `ChangeApplier`). */
export interface SftpChangeApplier {
  /**
   * Locks the account row, then inserts `key` when the account's membership in `organizationId` holds
   * `requiredFunction`, the account has fewer than `limit` keys that are neither removed nor disabled, and none
   * of them has the same fingerprint.
   * @throws DomainError `conflict` (function not held; same key registered — fieldErrors.publicKey),
   *   `quota_exceeded` (message: "erin.ng has 5 of 5 SFTP keys; the limit is 5.").
   */
  addSftpKey(key: NewSftpKey, rules: { organizationId: string; requiredFunction: string; limit: number }): Promise<void>;
  /**
   * Marks the account's key removed (by `requestId`). @returns the key as it was before.
   * @throws DomainError `not_found` when the account has no such key, `conflict` when it is already removed.
   */
  removeSftpKey(accountId: string, keyId: string, requestId: string, now: Date): Promise<SftpKey>;
  /**
   * Disables the account's usable (and expired) keys when none of its memberships holds `sftpFunction` any more.
   * @returns the fingerprints disabled (empty when another membership still holds it, or there were none).
   */
  disableSftpKeysWithout(accountId: string, sftpFunction: string, now: Date): Promise<string[]>;
  /**
   * As {@link addSftpKey} for a source range: membership function, fewer than `limit` ranges, same CIDR not present.
   * @throws DomainError `conflict` (fieldErrors.cidr), `quota_exceeded`.
   */
  addSftpSourceRange(range: NewSftpSourceRange, rules: { organizationId: string; requiredFunction: string; limit: number }): Promise<void>;
  /** Marks the account's range removed. @throws DomainError `not_found` when it has no such range, `conflict` when already removed. */
  removeSftpSourceRange(accountId: string, rangeId: string, requestId: string, now: Date): Promise<SftpSourceRange>;
}
