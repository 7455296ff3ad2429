/**
 * What change requests need from storage. Every transition is one conditional UPDATE (or one transaction
 * around it), so concurrent callers resolve to exactly one winner (design/security.md §1, §8).
 */
import type { Account, AccountStatus, AuditEvent, Membership } from '../model.js';
import type { EndedSessions } from '../recovery/stores.js';
import type { SftpChangeApplier } from '../sftp/stores.js';
import type { ChangeRequest, ChangeRequestStatus, ChangeRequestStep, ChangeRequestType, ChangeRequestView } from './model.js';

/** The state a request must be in for a transition to happen (all given conditions must hold). */
export interface TransitionGuard {
  from: readonly ChangeRequestStatus[];
  /** The version the caller saw. */
  version?: number;
  makerId?: string;
  checkerId?: string;
  /** The request's maker must not be this account (maker ≠ checker). */
  notMakerId?: string;
}

/** What a transition writes. Omitted fields keep their value. */
export interface TransitionChange {
  status: ChangeRequestStatus;
  /** Appended to `steps`; its `at` becomes `updated_at`. */
  step: ChangeRequestStep;
  /** Assigns the next `UM_` reference from the sequence when the request has none yet. */
  assignReference?: boolean;
  /** Increases `version` by one (edits of the content). */
  bumpVersion?: boolean;
  payload?: Record<string, unknown>;
  title?: string;
  accountId?: string | null;
  checkerId?: string | null;
  submittedAt?: Date;
  claimedAt?: Date | null;
  decidedAt?: Date;
  completedAt?: Date;
}

/**
 * The changes a confirmed request applies, inside the transaction of its transition: they commit together
 * with the status change or not at all. Times are instants; the change's audit events are written here
 * ({@link ChangeApplier.recordEvents}), and published on the bus only after the transaction committed.
 */
export interface ChangeApplier extends SftpChangeApplier {
  /**
   * Locks the organization row (`SELECT … FOR UPDATE`), counts its memberships, and creates the account and
   * membership when fewer than `quota` exist (design/security.md §8).
   * @throws DomainError `quota_exceeded` (message says the limit and how many exist), `conflict` (user ID or
   *   email taken; fieldErrors say which), `not_found` (organization).
   */
  createAccount(account: Account, membership: Membership, quota: number): Promise<void>;
  /** Replaces the membership's functions. @returns the previous functions. @throws DomainError `not_found` without such membership. */
  setFunctions(accountId: string, organizationId: string, functions: string[]): Promise<string[]>;
  /** @returns the previous status. @throws DomainError `not_found`. */
  setStatus(accountId: string, status: AccountStatus, now: Date): Promise<AccountStatus>;
  /** Sets the membership's delegated administrator flag. @throws DomainError `not_found` without such membership. */
  setDelegatedAdministrator(accountId: string, organizationId: string, value: boolean): Promise<void>;
  /** Clears the lockout. @returns true when the account was locked. */
  unlock(accountId: string, now: Date): Promise<boolean>;
  /** Deletes every authenticator app registration. @returns true when a confirmed one existed. */
  removeAuthenticators(accountId: string): Promise<boolean>;
  /**
   * Marks every passkey of the account removed at `now` (one UPDATE of those not yet removed): none signs in
   * again. @returns the names of the passkeys removed, oldest first.
   */
  removePasskeys(accountId: string, now: Date): Promise<string[]>;
  /** Ends the account's sessions and grants, as `AccountSessionRevoker.revokeAll` does (design/security.md §9). */
  endSessions(accountId: string, now: Date): Promise<EndedSessions>;
  /**
   * Revokes the account's grants that release its functions (scope or claims `organization`/`functions`), with
   * their codes and refresh and opaque access tokens, as `endSessions` does for every grant; its IdP sessions and
   * its other grants stay. @returns the grants revoked (`sessions` is 0) and the clients that held them.
   */
  revokeFunctionGrants(accountId: string, now: Date): Promise<EndedSessions>;
  /** Appends the change's audit events (already stamped) in its transaction: they commit with it or not at all. */
  recordEvents(events: AuditEvent[]): Promise<void>;
}

/** Filters for {@link ChangeRequestStore.list}; all optional, combined with AND; newest update first. */
export interface ChangeRequestQuery {
  /** Only these organizations; omitted: all (the operator). */
  organizationIds?: string[];
  makerId?: string;
  statuses?: readonly ChangeRequestStatus[];
  types?: readonly ChangeRequestType[];
  /** Case-insensitive substring of the reference or the title. */
  text?: string;
  /** Last update at or after this instant. */
  updatedFrom?: Date;
  /** Last update before this instant. */
  updatedBefore?: Date;
  /** Requests this account may check: `ready_for_checker` made by someone else, or `claimed` by it. */
  checkableBy?: string;
  /** Hides other makers' drafts from this account. */
  viewerId?: string;
  /** Default 50, at most 200. */
  limit?: number;
  offset?: number;
}

/** Change requests on PostgreSQL. */
export interface ChangeRequestStore {
  /** Inserts a new request (a draft). */
  create(request: ChangeRequest): Promise<void>;
  /** @returns null for an unknown (or malformed) id. */
  findById(id: string): Promise<ChangeRequestView | null>;
  /**
   * One conditional `UPDATE … WHERE id = $1 AND status IN (…) [AND version = $v] [AND maker_id …] RETURNING`.
   * @returns the updated request for exactly one of any number of concurrent callers; null when the guard did not hold.
   */
  transition(id: string, guard: TransitionGuard, change: TransitionChange): Promise<ChangeRequest | null>;
  /**
   * {@link transition} and `apply` in one transaction. When `apply` throws, nothing is written and the error
   * propagates; when the guard does not hold, `apply` is not called and the result is null.
   */
  transitionAndApply<T>(id: string, guard: TransitionGuard, change: TransitionChange, apply: (applier: ChangeApplier, request: ChangeRequest) => Promise<T>): Promise<{ request: ChangeRequest; applied: T } | null>;
  /**
   * Runs `apply` in one transaction with no request behind it: the operator's direct changes (the operator CLI's
   * `account reset-factor`), applied and audited as a confirmed request's are. When `apply` throws, nothing is written.
   */
  applyDirectly<T>(apply: (applier: ChangeApplier) => Promise<T>): Promise<T>;
  /** A page of requests and how many match in all. */
  list(query: ChangeRequestQuery): Promise<{ items: ChangeRequestView[]; total: number }>;
  /** The organization's accounts holding a delegated administrator membership (whom to notify, who may check). */
  delegatedAdministrators(organizationId: string): Promise<Account[]>;
}
