/**
 * The storage interfaces the domain needs. storage/ implements them on PostgreSQL; every method that
 * must be race-safe says so and is implemented as one atomic statement or one transaction.
 */
import type { AccountSessionRevoker, PasswordResetStore, RateLimitStore } from './recovery/stores.js';
import type { ChangeRequestStore } from './change-requests/stores.js';
import type { SftpStore } from './sftp/stores.js';
import type { PasskeyStore } from './factors/passkey/stores.js';
import type { PhishingResistantRuleStore } from './factors/phishing-resistant-policy.js';
import type { MailOutboxStore } from './mail/stores.js';
import type { EmailOtpStore } from './factors/email-otp/stores.js';
import type { AuthenticatorStore, CampaignStore } from './factors/authenticator-app/stores.js';
import type { EnrolledFactors } from './factors/strategy.js';
import type { Account, AccountStatus, AccountView, AuditEvent, LockoutState, Membership, MembershipWithOrganization, Organization } from './model.js';

/** Organizations and their participant IDs. */
export interface OrganizationStore {
  /** @throws DomainError `conflict` when the name or a participant ID is already used. */
  create(organization: Organization): Promise<void>;
  findById(id: string): Promise<Organization | null>;
  /** Finds by id, by name (case-insensitive) or by one of its participant IDs. */
  findByReference(reference: string): Promise<Organization | null>;
  list(): Promise<Organization[]>;
  /**
   * Adds a participant ID after the organization's others.
   * @throws DomainError `not_found` (organization), `conflict` when any organization already holds it.
   */
  addParticipantId(organizationId: string, participantId: string): Promise<void>;
}

/** Accounts and memberships. */
export interface AccountStore {
  /**
   * Creates an account with its first membership in one transaction that locks the organization row,
   * counts its memberships and refuses when `quota` is reached (design/security.md §8).
   * @throws DomainError `not_found` (organization), `conflict` (user ID or email taken; fieldErrors say which),
   *   `quota_exceeded` (message says the limit and how many exist).
   */
  createWithMembership(account: Account, membership: Membership, quota: number): Promise<void>;
  findById(id: string): Promise<Account | null>;
  /** Finds by user ID or email, case-insensitive. */
  findByLogin(login: string): Promise<Account | null>;
  /** The account's memberships with their organizations, oldest first, in one statement ({@link findView}'s). */
  listMemberships(accountId: string): Promise<MembershipWithOrganization[]>;
  /**
   * The account with its memberships, organizations and participant IDs ({@link AccountView}) in one statement
   * (one database round trip), as `findById` plus `listMemberships` would give them. @returns null when unknown.
   */
  findView(accountId: string): Promise<AccountView | null>;
  countInOrganization(organizationId: string): Promise<number>;
  /**
   * The organization's accounts with their membership there, ordered by user ID. `text` (optional) matches
   * user ID, name or email, case-insensitive substring. At most `limit` (default 200).
   */
  listInOrganization(organizationId: string, query?: { text?: string; limit?: number }): Promise<OrganizationAccount[]>;
  /** Sets the operator role (one conditional UPDATE). @returns true when it changed, false when it already was so or the account is unknown. */
  setOperator(accountId: string, operator: boolean, now: Date): Promise<boolean>;
  /**
   * Makes the membership of `accountId` in `organizationId` a delegated administrator one (conditional UPDATE).
   * @returns true when it changed, false when it already was. @throws DomainError `not_found` without such membership.
   */
  appointDelegatedAdministrator(accountId: string, organizationId: string): Promise<boolean>;
  updatePasswordHash(accountId: string, passwordHash: string, now: Date): Promise<void>;
  setStatus(accountId: string, status: AccountStatus, now: Date): Promise<void>;
}

/** An account as one organization sees it: the account and its membership there. */
export interface OrganizationAccount {
  account: Account;
  membership: Membership;
}

/**
 * The lockout budget in force (config `LOCKOUT_*`): when failures lock an account (design/domain.md "lockout").
 * Two limits, each enough: `maxFailures` failures within any sliding window of `windowSeconds`, or
 * `maxConsecutiveFailures` failures since the last completed sign-in whatever their timing (NIST SP 800-63B
 * §5.2.2: at most 100).
 */
export interface LockoutPolicy {
  maxFailures: number;
  windowSeconds: number;
  maxConsecutiveFailures: number;
}

/** Race-safe failed-attempt accounting (design/security.md §2). */
export interface LockoutStore {
  /**
   * Atomically reserves one attempt before any credential is checked, at `now`: granted only while fewer than
   * `maxFailures` attempts are counted in the sliding window `(now - windowSeconds, now]` and fewer than
   * `maxConsecutiveFailures` since the last {@link reset}; a granted attempt is counted in both until it is
   * given back ({@link releaseAttempt}). One conditional INSERT … ON CONFLICT DO UPDATE, so concurrent callers
   * on any instance never exceed either budget. A locked account is never granted a reservation
   * (`{ reserved: false, locked: true }`): see {@link reserveLockedCheck}; so `locked` is true only when
   * `reserved` is false.
   */
  reserveAttempt(accountId: string, policy: LockoutPolicy, now: Date): Promise<{ reserved: boolean; locked: boolean }>;
  /**
   * The password step's first round trip: finds the account by `login` (user ID or email, case-insensitive, as
   * {@link AccountStore.findByLogin}) and, when it has a password, reserves one attempt for it as
   * {@link reserveAttempt} does, in one statement. `account` is null when unknown (nothing reserved); `enrolled`
   * its registered second factors, read in the same statement (null when unknown).
   */
  reserveAttemptByLogin(login: string, policy: LockoutPolicy, now: Date): Promise<{ account: Account | null; reserved: boolean; locked: boolean; enrolled: EnrolledFactors | null }>;
  /**
   * On a locked account whose budget is spent, atomically grants one password check when the previous granted
   * check is at least `intervalSeconds` old (conditional UPDATE). This lets the right password learn that the
   * account is locked while a burst of guesses still gets at most one extra check. False when not locked or not due.
   */
  reserveLockedCheck(accountId: string, intervalSeconds: number, now: Date): Promise<boolean>;
  /**
   * Gives back the reservation made at `reservedAt` (the password was right, so it was no failure): removes that
   * one entry from the window and one from the consecutive count; nothing when no entry has that time. Only
   * failures stay counted, so however reservations are given back, no window sees more than `maxFailures` wrong guesses.
   */
  releaseAttempt(accountId: string, reservedAt: Date): Promise<void>;
  /**
   * Sets `lockedAt = now` when either limit of `policy` is reached (the window ending at `now` counts
   * `maxFailures` attempts, or `maxConsecutiveFailures` are counted in a row) and the account is not yet
   * locked (conditional UPDATE). True only for the one call that locked it. `record` (stamped events) is appended
   * to the audit log in the same statement: `failed` always, `locked` only when this call locked; the caller then
   * publishes them with `publishRecorded`.
   */
  lockIfExhausted(accountId: string, policy: LockoutPolicy, now: Date, record?: { failed?: AuditEvent; locked?: AuditEvent }): Promise<boolean>;
  /**
   * After a completed sign-in: no counted attempts, no consecutive failures. Does not unlock. `record` (a stamped
   * event, e.g. `account.signed_in`) is appended to the audit log in the same statement.
   */
  reset(accountId: string, now: Date, record?: AuditEvent): Promise<void>;
  /** Clears the lock and every count. True when the account was locked. */
  unlock(accountId: string, now: Date): Promise<boolean>;
  find(accountId: string): Promise<LockoutState | null>;
}

/** Filters for listing audit events; all optional, combined with AND; newest first (`occurredAt`, then id). */
export interface AuditQuery {
  /** Only events about this account (`AuditEvent.accountId`). */
  accountId?: string;
  /** Only events stamped with exactly this organization (`AuditEvent.organizationId`). */
  organizationId?: string;
  /**
   * The events an organization's delegated administrators may see: those stamped with this organization,
   * plus events stamped with no organization (sign-in outcomes, locks, resets, factor changes) about an
   * account that is currently a member of it. Events stamped with another organization are excluded.
   */
  visibleToOrganizationId?: string;
  /** Only this event type (one of `EVENT_TYPES`). */
  type?: string;
  /** Only events at or after this instant (inclusive). */
  from?: Date;
  /** Only events before this instant (exclusive). */
  before?: Date;
  /** At most this many events (default 100, capped at 1000 by the store). */
  limit?: number;
  /** Skips this many matching events first (paging; default 0). */
  offset?: number;
}

/** The append-only audit log. */
export interface AuditStore {
  append(event: AuditEvent): Promise<void>;
  /** A page of matching events, newest first. Ids that are not UUIDs match nothing (an empty page, no error). */
  list(query: AuditQuery): Promise<AuditEvent[]>;
}

/** Everything identity/ needs from storage, as server/ wires it. */
export interface IdentityStores {
  organizations: OrganizationStore;
  accounts: AccountStore;
  lockouts: LockoutStore;
  /** Emailed codes (identity/factors/email-otp/stores.ts). */
  emailOtps: EmailOtpStore;
  audit: AuditStore;
  passwordResets: PasswordResetStore;
  rateLimits: RateLimitStore;
  accountSessions: AccountSessionRevoker;
  /** Authenticator apps and re-registration campaigns (identity/factors/authenticator-app/stores.ts). */
  authenticators: AuthenticatorStore;
  campaigns: CampaignStore;
  changeRequests: ChangeRequestStore;
  /** The durable mail outbox (identity/mail/stores.ts). */
  mailOutbox: MailOutboxStore;
  /** SSH keys and source ranges for ECP over SFTP (identity/sftp/stores.ts). */
  sftp: SftpStore;
  /** Passkeys (WebAuthn credentials) and their ceremonies' challenges (identity/factors/passkey/stores.ts). */
  passkeys: PasskeyStore;
  /** The operator's phishing-resistant rules (identity/factors/phishing-resistant-policy.ts). */
  phishingResistantRules: PhishingResistantRuleStore;
}

/** Where a sign-in attempt comes from: the client's IP address (Express `req.ip`) and the interaction it belongs to. */
export interface SignInAttemptSource {
  /** Undefined when the socket is gone; such attempts share one counter. */
  ip: string | undefined;
  /** The oidc-provider interaction uid. */
  interactionId: string;
}

/** The answer of {@link SignInThrottle.consume}: go on, or wait `retryAfterSeconds` (whole seconds, ≥ 1). */
export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; limit: 'ip' | 'interaction' };

/**
 * Counts sign-in attempts (password, emailed code, authenticator app code) per client IP and per interaction
 * in fixed windows, in counters shared by every instance (OWASP ASVS 5.0 V6.3.1, NIST SP 800-63B §5.2.2
 * "rate limiting"). It never touches the lockout: a refused attempt checks no credential and counts toward
 * no account. On PostgreSQL it is `rate-limiter-flexible`'s store (storage/sign-in-throttle.ts).
 */
export interface SignInThrottle {
  /**
   * Counts one attempt from `source` against both limits, before any credential is checked. Refused when either
   * count is past its limit; concurrent attempts on any instance are all counted (one atomic upsert each).
   */
  consume(source: SignInAttemptSource): Promise<ThrottleDecision>;
  /**
   * Gives the client IP back the attempt that just succeeded (right password, right code), so that people behind
   * one address (an office's NAT) are limited by their failures only. The interaction's count stays.
   */
  forgive(source: SignInAttemptSource): Promise<void>;
}
