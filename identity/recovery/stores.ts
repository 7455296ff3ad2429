/**
 * What password recovery needs from storage: single-use reset tokens, shared rate-limit counters, and a
 * way to end everything an account holds at the IdP. storage/ implements them on PostgreSQL.
 */
import type { OutboxMail } from '../mail/stores.js';

/** A password-reset link, stored by the SHA-256 hash of its token (the token itself is never stored). */
export interface PasswordResetToken {
  id: string;
  accountId: string;
  /** `reset`: "Forgot password?"; `set_password`: a new account's first password, emailed when its creation request is confirmed. */
  purpose: 'reset' | 'set_password';
  /** SHA-256 hex of the token. */
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  /** Set when used, or when a newer link of the same account and purpose superseded it. */
  consumedAt: Date | null;
}

/** What {@link PasswordResetStore.consumeAndSetPassword} did for the caller that used the link. */
export interface CompletedReset extends EndedSessions {
  accountId: string;
  /** Whether the account was locked (the reset unlocked it). */
  wasLocked: boolean;
}

/** Reset links. Every method that changes state is atomic. */
export interface PasswordResetStore {
  /**
   * Stores `token`, and with `mail` the outbox message carrying its link, in one transaction. It supersedes
   * nothing yet: when the outbox marks that message sent, {@link supersedeOlder} runs in that transaction (only the
   * newest delivered link works). Messages of the account's earlier links of the same purpose that were never
   * delivered and that no worker holds are withdrawn with their links: they would arrive superseded anyway.
   */
  issue(token: PasswordResetToken, mail?: OutboxMail): Promise<void>;
  /**
   * Records that `token`'s email was delivered and leaves only the newest delivered link of its account and
   * purpose usable (ordered by `createdAt`, then id): the others, and unconsumed links created before it, are
   * consumed. Serialized per account, so concurrent deliveries end with exactly one usable link.
   * @returns how many were superseded.
   */
  supersedeOlder(token: PasswordResetToken, now: Date): Promise<number>;
  /** Marks the token with this hash consumed (its email was never delivered). */
  withdraw(tokenHash: string, now: Date): Promise<void>;
  /** The token with this hash, whatever its state; null when none. */
  findByHash(tokenHash: string): Promise<PasswordResetToken | null>;
  /**
   * Uses the token and sets the account's password, in one transaction: a conditional
   * `UPDATE … WHERE consumed_at IS NULL AND expires_at > now` decides the one winner among concurrent callers;
   * only the winner's `passwordHash` is written. In the same transaction the lockout is cleared (count and lock)
   * and every grant, refresh token and IdP session of the account is revoked (design/security.md §1, §9).
   * @returns for the caller that consumed it, the account id, whether it was locked and what was ended; null for
   *   everyone else (used, superseded, expired, unknown).
   */
  consumeAndSetPassword(tokenHash: string, passwordHash: string, now: Date): Promise<CompletedReset | null>;
}

/** A fixed-window limit: at most `max` hits per `windowSeconds`. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/** Counters shared by every instance (design/architecture.md "Scaling out"). */
export interface RateLimitStore {
  /**
   * Counts one hit on `key` in one atomic statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`): starts a new
   * window when the current one is `limit.windowSeconds` old, otherwise increments.
   * @returns true while the count in the window is at most `limit.max`.
   */
  hit(key: string, limit: RateLimit, now: Date): Promise<boolean>;
  /** Takes back one hit on `key` in its current window (never below zero; nothing when there is no counter). */
  giveBack(key: string): Promise<void>;
}

/** What ending an account's grants and IdP sessions did (design/security.md §9). */
export interface EndedSessions {
  /** Grants revoked (their codes, access and refresh tokens with them). */
  grants: number;
  /** IdP sessions ended. */
  sessions: number;
  /**
   * Client ids that held one of those grants or sessions, sorted. The IdP sends each of them that registered a
   * `backchannel_logout_uri` a logout token once the change has committed (OIDC Back-Channel Logout 1.0).
   */
  clients: string[];
}

/** One ended IdP session's sign-in at one client: what a logout token with `sid` names (OIDC Back-Channel Logout 1.0 §2.4). */
export interface SessionLogout {
  clientId: string;
  sid: string;
}

/** What ending an account's other sessions did: {@link EndedSessions}, and the `sid` of each ended session at each client. */
export interface EndedOtherSessions extends EndedSessions {
  logouts: SessionLogout[];
}

/** Ends an account's sign-in state at the IdP (design/security.md §9). */
export interface AccountSessionRevoker {
  /**
   * Revokes every grant of the account (with its codes, access and refresh tokens) and deletes its IdP
   * sessions, so no earlier sign-in or token keeps working.
   * @returns how many grants and sessions were ended, and which clients held them.
   */
  revokeAll(accountId: string, now: Date): Promise<EndedSessions>;
  /**
   * The same, except for the IdP session whose `uid` is `keepSessionUid` and the grants it holds: after the holder
   * changed a credential from that session, every other sign-in ends (ASVS 5.0 V7.4.3). Sessions are told apart by
   * their `uid`, never by their id (a bearer secret). A `keepSessionUid` that matches no session keeps nothing.
   */
  revokeAllExcept(accountId: string, keepSessionUid: string, now: Date): Promise<EndedOtherSessions>;
}
