/**
 * {@link AccountSessionRevoker} on PostgreSQL, through {@link revokeAccountGrants}: every grant of the
 * account is revoked with a tombstone (its codes, refresh and opaque access tokens deleted) and its IdP
 * sessions are deleted, in one transaction. {@link revokeOtherSessions} does the same but spares one session
 * (by its `uid`) and the grants it holds.
 */
import type { AccountSessionRevoker } from '../identity/index.js';
import type { Database } from './database.js';
import { revokeAccountGrants, revokeOtherSessions } from './oidc-grant-revocation.js';

/** Creates the revoker over `database`. */
export function createAccountSessionRevoker(database: Database): AccountSessionRevoker {
  return {
    revokeAll: (accountId, now) => revokeAccountGrants(database, accountId, now),
    revokeAllExcept: (accountId, keepSessionUid, now) => revokeOtherSessions(database, accountId, keepSessionUid, now),
  };
}
