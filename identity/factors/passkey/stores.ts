/**
 * The storage the passkey factor needs; storage/passkey-store.ts implements it on PostgreSQL.
 */
import type { Passkey, PasskeyChallenge, PasskeyChallengePurpose } from './model.js';

/** Passkeys and their ceremonies' challenges. */
export interface PasskeyStore {
  /** The account's passkeys that were not removed, oldest first. */
  listActive(accountId: string): Promise<Passkey[]>;
  /**
   * Stores a new passkey.
   * @throws DomainError `conflict` when its credential ID is already registered (to any account, even removed).
   */
  add(passkey: Passkey): Promise<void>;
  /**
   * Marks passkey `id` of `accountId` removed at `now` (one conditional UPDATE, race-safe).
   * @returns the passkey as it was, or null when unknown, of another account, or already removed.
   */
  remove(accountId: string, id: string, now: Date): Promise<Passkey | null>;
  /** Stores `challenge`, replacing the session's earlier one of the same purpose (one statement). */
  saveChallenge(challenge: PasskeyChallenge): Promise<void>;
  /**
   * Takes the session's challenge of `purpose` issued to `accountId` and deletes it (one `DELETE … RETURNING`):
   * of concurrent callers, at most one gets it. An expired challenge is deleted too.
   * @returns the challenge when one existed and `expiresAt > now`, else null.
   */
  consumeChallenge(sessionUid: string, accountId: string | null, purpose: PasskeyChallengePurpose, now: Date): Promise<string | null>;
  /** The session's challenge of `purpose` issued to `accountId`, without consuming it; null when none or expired. */
  findChallenge(sessionUid: string, accountId: string, purpose: PasskeyChallengePurpose, now: Date): Promise<string | null>;
  /** The passkey (not removed) with this credential ID (base64url), of any account; null when none. */
  findByCredentialId(credentialId: string): Promise<Passkey | null>;
  /**
   * Records a sign-in with passkey `id`: its new signature counter (WebAuthn Level 3 §6.1.1), backup state and
   * last use, in one conditional UPDATE that holds only while the counter increases (or stays 0 for an
   * authenticator that keeps none) and the passkey is not removed. So of two assertions with the same counter
   * (a cloned authenticator, or a replay racing the original) at most one is recorded.
   * @returns false when the counter did not increase or the passkey was removed meanwhile.
   */
  recordUse(id: string, use: { counter: number; backedUp: boolean; now: Date }): Promise<boolean>;
}
