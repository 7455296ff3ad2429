/**
 * ECP SFTP access as the console and the SFTP gateway's decision read it. Registrations and removals are
 * change requests (identity/change-requests: `register_sftp_key`, `remove_sftp_key`, `add_sftp_source_range`,
 * `remove_sftp_source_range`); nothing here changes them. Nothing is cached: every call reads the database.
 */
import type { Clock } from '../../lib/index.js';
import type { SftpAccess, SftpKey, SftpSourceRange } from './model.js';
import type { SftpStore } from './stores.js';

/** Reads of SFTP keys and source ranges, and the gateway's "last used" stamp. */
export interface SftpService {
  /** Keys (not removed) and source ranges (not removed) of the account, oldest first. */
  access(accountId: string): Promise<SftpAccess>;
  /** The account's usable keys at `now` (default: the clock's now): not removed, not disabled, not expired. */
  listActiveKeys(accountId: string, now?: Date): Promise<SftpKey[]>;
  /**
   * The account's key with `fingerprint` (`SHA256:…`): the usable row when there is one, else the latest row in
   * any state; pass it to `keyRefusal` for the reason. @returns null when the account never had that key.
   */
  findKey(accountId: string, fingerprint: string): Promise<SftpKey | null>;
  /** The account's source ranges (canonical CIDR), not removed, oldest first; match with `sourceAllowed`. */
  listSourceRanges(accountId: string): Promise<SftpSourceRange[]>;
  /** Stamps `last_used_at` (at, default now) and `last_used_ip` of a key the gateway let in. */
  recordKeyUse(keyId: string, ip: string | null, at?: Date): Promise<void>;
}

/** Creates the service over `store`. */
export function createSftpService(deps: { store: SftpStore; clock: Clock }): SftpService {
  const { store, clock } = deps;
  return {
    async access(accountId) {
      const [keys, sourceRanges] = await Promise.all([store.listKeys(accountId), store.listSourceRanges(accountId)]);
      return { keys, sourceRanges };
    },
    listActiveKeys: (accountId, now = clock.now()) => store.listActiveKeys(accountId, now),
    findKey: (accountId, fingerprint) => store.findKey(accountId, fingerprint),
    listSourceRanges: (accountId) => store.listSourceRanges(accountId),
    recordKeyUse: (keyId, ip, at = clock.now()) => store.recordKeyUse(keyId, ip, at),
  };
}
