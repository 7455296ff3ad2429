/**
 * The storage interfaces the domain needs. storage/ implements them on PostgreSQL; every method that
 * must be race-safe says so and is implemented as one atomic statement or one transaction.
 */
import type { SecondFactor } from '../policies/index.js';
import type { AccountSessionRevoker, PasswordResetStore, RateLimitStore } from './recovery/stores.js';
import type { ChangeRequestStore } from './change-requests/stores.js';
import type { SftpStore } from './sftp/stores.js';
import type { PasskeyStore } from './factors/passkey/stores.js';
import type { PhishingResistantRuleStore } from './factors/phishing-resistant-policy.js';
import type { MailOutboxStore, OutboxMail } from './mail/stores.js';
import type { Account, AccountStatus, AccountView, AuditEvent, AuthenticatorRegistration, CampaignProgress, EmailOtpChallenge, LockoutState, Membership, MembershipWithOrganization, Organization, ReregistrationCampaign } from './model.js';

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
   * {@link reserveAttempt} does, in one statement. `account` is null when unknown (nothing reserved).
   */
  reserveAttemptByLogin(login: string, policy: LockoutPolicy, now: Date): Promise<{ account: Account | null; reserved: boolean; locked: boolean }>;
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

/** An emailed code with the state of its email (identity decides what the code page may claim from it). */
export interface EmailOtpDelivery extends EmailOtpChallenge {
  /** When its email was delivered (the outbox marked it sent); null until then. */
  deliveredAt: Date | null;
  /** Its outbox message: `status` (pending, sent, failed), attempts so far and the last failure; null when none exists. */
  mail: { status: 'pending' | 'sent' | 'failed'; attempts: number; lastError: string | null } | null;
}

/** Emailed one-time codes. */
export interface EmailOtpStore {
  /**
   * Stores a new challenge and the outbox message carrying its code, in one transaction. Earlier codes of the
   * binding keep working: only when this one's email is delivered (the outbox's `markSent`) do they stop. With
   * `replaces` (the id of the newest challenge the caller saw), issues only while that challenge is still the
   * newest of the binding, taking its row lock, so of concurrent resends exactly one issues a code. Messages of the
   * binding's earlier codes that were never delivered and that no worker holds are withdrawn (those codes consumed),
   * so at most one undelivered code per sign-in waits in the outbox.
   * @returns false when `replaces` was given and a newer challenge exists (nothing stored); true otherwise.
   */
  issue(challenge: EmailOtpChallenge, replaces: string | undefined, mail: OutboxMail): Promise<boolean>;
  /**
   * The first code of a binding, in one statement: stores the challenge and its outbox message only when the
   * binding has no challenge yet. The message is stored already leased by the caller for `leaseSeconds` (its
   * first attempt counted), so the caller delivers it at once without claiming it; if the caller dies, the lease
   * runs out and any worker delivers it.
   * @returns false when the binding already had a challenge (nothing stored: use {@link issue}).
   */
  issueFirst(challenge: EmailOtpChallenge, mail: OutboxMail, leaseSeconds: number): Promise<boolean>;
  /** The newest challenge of this account and binding, consumed or not, with its delivery; null when none. */
  findLatest(accountId: string, bindingId: string): Promise<EmailOtpDelivery | null>;
  /** The binding's unconsumed challenges (expired ones included), newest first, with their delivery; at most 20. */
  listUnconsumed(accountId: string, bindingId: string): Promise<EmailOtpDelivery[]>;
  /** Atomically marks it consumed (`… WHERE consumed_at IS NULL AND expires_at > now`). True for exactly one caller. */
  consume(id: string, now: Date): Promise<boolean>;
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
  emailOtps: EmailOtpStore;
  audit: AuditStore;
  passwordResets: PasswordResetStore;
  rateLimits: RateLimitStore;
  accountSessions: AccountSessionRevoker;
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

/**
 * Authenticator app registrations (TOTP, RFC 6238) and the account's preferred second factor. Secrets cross
 * this interface in clear; the implementation encrypts them at rest (design/security.md §5).
 */
export interface AuthenticatorStore {
  findConfirmed(accountId: string): Promise<AuthenticatorRegistration | null>;
  findPending(accountId: string): Promise<AuthenticatorRegistration | null>;
  /** Stores a `pending` registration, replacing the account's earlier pending one (one transaction). */
  savePending(registration: AuthenticatorRegistration): Promise<void>;
  /**
   * Atomically turns pending registration `pendingId` of `accountId` into the confirmed one: the previous
   * confirmed registration is deleted in the same transaction (its codes stop working at commit), and
   * `last_used_step` is set to `step`, the step of the confirming code, so that code cannot sign in.
   * @returns the previous registration's `confirmedAt` (null when there was none), or `undefined` when the
   *   pending registration no longer exists (another request confirmed or replaced it).
   */
  confirm(pendingId: string, accountId: string, step: number, now: Date): Promise<{ previousConfirmedAt: Date | null } | undefined>;
  /**
   * Replay guard (RFC 6238 §5.2, design/security.md §4): one conditional UPDATE
   * `… SET last_used_step = step WHERE id = … AND status = 'confirmed' AND (last_used_step IS NULL OR last_used_step < step)`.
   * True for exactly one of any number of concurrent callers with the same step, on any instance.
   */
  useStep(registrationId: string, step: number): Promise<boolean>;
  /** Deletes the confirmed registration `registrationId` of the account. True when it existed. */
  removeConfirmed(accountId: string, registrationId: string): Promise<boolean>;
  /** Deletes every registration of the account, pending or confirmed. True when a confirmed one existed. */
  removeAll(accountId: string): Promise<boolean>;
  /** The account's preferred second factor (`app` by default; only meaningful while an app is confirmed). */
  findPreferredFactor(accountId: string): Promise<SecondFactor>;
  setPreferredFactor(accountId: string, factor: SecondFactor, now: Date): Promise<void>;
}

/** Re-registration campaigns and what each affected account did about them. */
export interface CampaignStore {
  create(campaign: ReregistrationCampaign): Promise<void>;
  findById(id: string): Promise<ReregistrationCampaign | null>;
  /** Every campaign, newest first. */
  list(): Promise<ReregistrationCampaign[]>;
  /** Sets `closedAt` when still open (conditional UPDATE). True when this call closed it. */
  close(id: string, now: Date): Promise<boolean>;
  /**
   * The open campaign that asks `accountId` to re-register at `now`: effective (`effectiveFrom <= now`), the
   * account's confirmed app was confirmed before `registeredBefore`, and the account has not re-registered for
   * it. The oldest such campaign; null when none.
   */
  findPromptFor(accountId: string, now: Date): Promise<ReregistrationCampaign | null>;
  /** Records that the account skipped the campaign (the latest skip time is kept; a re-registration is never overwritten). */
  recordSkip(campaignId: string, accountId: string, now: Date): Promise<void>;
  /**
   * Records `re_registered` for every open, effective campaign that affected the account's previous app
   * (`previousConfirmedAt < registeredBefore`).
   */
  recordReRegistration(accountId: string, previousConfirmedAt: Date, now: Date): Promise<void>;
  /** Affected accounts: those whose confirmed app predates the cutoff, plus those that re-registered for it. */
  progress(campaignId: string): Promise<CampaignProgress>;
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
