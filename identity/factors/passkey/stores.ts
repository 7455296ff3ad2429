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
  consumeChallenge(sessionUid: string, accountId: string, purpose: PasskeyChallengePurpose, now: Date): Promise<string | null>;
}
