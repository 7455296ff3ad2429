/**
 * Domain records (design/domain.md). Plain data; storage/ maps them to tables.
 * Times are `Date` instants; ids are UUID strings unless stated.
 */

/** An account's own status. `locked` is not stored here: it is derived from {@link LockoutState}. */
export type AccountStatus = 'active' | 'suspended' | 'closed';

/** A member firm. Holds one or more participant IDs (e.g. `B01234`). */
export interface Organization {
  id: string;
  name: string;
  participantIds: string[];
  createdAt: Date;
}

/** A person's login. `id` is the OIDC `sub`. `email` is unique system-wide (case-insensitive). */
export interface Account {
  id: string;
  /** The login name, e.g. `jchan01`; unique, case-insensitive. */
  userId: string;
  name: string;
  email: string;
  /** Mobile phone as entered; compared digits-only. */
  phone: string;
  status: AccountStatus;
  /** argon2id PHC string; null until the person sets a password. */
  passwordHash: string | null;
  /** Holds the operator role: runs organizations, DAs, applications and campaigns in the console. CLI-granted only. */
  operator: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** An account's place in an organization, carrying its functions (access rights). */
export interface Membership {
  accountId: string;
  organizationId: string;
  /** Catalogued function names (policies/functions.ts). */
  functions: string[];
  delegatedAdministrator: boolean;
  createdAt: Date;
}

/** A membership joined with its organization, as sign-in and claims need it. */
export interface MembershipWithOrganization extends Membership {
  organization: Organization;
}

/**
 * An account with its memberships, each with its organization and that organization's participant IDs: what
 * sign-in, claims and token issuance read. Memberships are ordered by when they were created.
 */
export interface AccountView {
  account: Account;
  memberships: MembershipWithOrganization[];
}

/**
 * Failed-attempt accounting for one account (design/security.md §2).
 * `attempts` counts the reserved attempts in the sliding window at its last change, the oldest of them at
 * `windowStartedAt`; `consecutiveFailures` counts them since the last completed sign-in, whatever their timing.
 * A correct password releases its reservation, a completed sign-in resets both counts.
 */
export interface LockoutState {
  accountId: string;
  attempts: number;
  windowStartedAt: Date;
  consecutiveFailures: number;
  /** Set when the account was locked; cleared only by an unlock or a password reset. */
  lockedAt: Date | null;
}

/** An emailed one-time code, bound to one sign-in (the oidc-provider interaction). */
export interface EmailOtpChallenge {
  id: string;
  accountId: string;
  /** The sign-in this code belongs to: the interaction uid. A code works only there. */
  bindingId: string;
  /** SHA-256 hex of the code; the code itself is never stored. */
  codeHash: string;
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
}

/** An append-only record of a security-relevant event. */
export interface AuditEvent {
  id: string;
  type: string;
  occurredAt: Date;
  /** The account the event is about. */
  accountId: string | null;
  organizationId: string | null;
  /** Who caused it, when that is not the account itself (an administrator, the operator CLI). */
  actor: string | null;
  ip: string | null;
  data: Record<string, unknown>;
}

/**
 * An authenticator app registration (TOTP, RFC 6238). `pending` until the first correct code confirms it;
 * an account has at most one of each status. `secret` is the Base32 secret, decrypted: storage seals it.
 */
export interface AuthenticatorRegistration {
  id: string;
  accountId: string;
  status: 'pending' | 'confirmed';
  /** Base32 (RFC 4648 §6) shared secret, as shown to the person and put in the `otpauth://` URI. */
  secret: string;
  createdAt: Date;
  confirmedAt: Date | null;
  /** RFC 6238 time step (T) of the last accepted code; only later steps are accepted. Null before any. */
  lastUsedStep: number | null;
}

/**
 * A re-registration campaign (design/domain.md): from `effectiveFrom`, accounts whose app was confirmed
 * before `registeredBefore` are asked at sign-in to register it again; "Skip this step" is offered until
 * `skipUntil` (null: always). A closed campaign asks nobody.
 */
export interface ReregistrationCampaign {
  id: string;
  registeredBefore: Date;
  effectiveFrom: Date;
  skipUntil: Date | null;
  createdAt: Date;
  createdBy: string;
  closedAt: Date | null;
}

/** How far a campaign got: accounts affected, of which re-registered and (still) skipping. */
export interface CampaignProgress {
  affected: number;
  reRegistered: number;
  skipped: number;
}
