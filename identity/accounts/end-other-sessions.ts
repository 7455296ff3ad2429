/**
 * After the account holder changes a credential (password, authenticator app) from a session, every other
 * session and grant of the account ends (ASVS 5.0 V7.4.3): whoever signed in with the old credential elsewhere is
 * signed out, their refresh tokens die, and portals are told by back-channel logout (idp/back-channel-logout.ts
 * reads `data.logouts` of the change's event). The session the change was made from stays signed in.
 */
import type { AttemptContext } from '../authentication/sign-in.js';
import type { AccountSessionRevoker, EndedOtherSessions } from '../recovery/stores.js';

/** The context of a credential change: the attempt's, and the IdP session it was made from. */
export interface CredentialChangeContext extends AttemptContext {
  /** The `uid` of the IdP session the change was made from (never its id). Absent: no session is ended. */
  sessionUid?: string | null;
}

/**
 * Ends every session and grant of `accountId` except the session `context.sessionUid` and its grants.
 * @returns what ended (for the change's audit event), or null when no session uid was given.
 */
export async function endOtherSessions(revoker: AccountSessionRevoker, accountId: string, context: CredentialChangeContext, now: Date): Promise<EndedOtherSessions | null> {
  return context.sessionUid ? revoker.revokeAllExcept(accountId, context.sessionUid, now) : null;
}
