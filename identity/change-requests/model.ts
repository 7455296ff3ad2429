/**
 * Change requests (maker-checker, design/domain.md "change request"): a delegated administrator's change to
 * users, made by one DA (the maker) and confirmed by a different DA (the checker). Plain data; storage/ maps
 * it to the `change_requests` table.
 */

/** Every kind of change a request can carry, in the order the console offers them. */
export const CHANGE_REQUEST_TYPES = [
  'create_account',
  'change_functions',
  'suspend_account',
  'reactivate_account',
  'unlock_account',
  'reset_second_factor',
  'close_account',
  'appoint_delegated_administrator',
  'remove_delegated_administrator',
  'register_sftp_key',
  'remove_sftp_key',
  'add_sftp_source_range',
  'remove_sftp_source_range',
] as const;

/**
 * ECP SFTP registrations (issue 14 §1): only for an account holding `EU_ECPSFTP`, and only a delegated
 * administrator holding ECP administration (`EU_ECPAdmin`) may make them; any other DA may check them.
 */
export const SFTP_TYPES: readonly ChangeRequestType[] = ['register_sftp_key', 'remove_sftp_key', 'add_sftp_source_range', 'remove_sftp_source_range'];

/** One of {@link CHANGE_REQUEST_TYPES}. */
export type ChangeRequestType = (typeof CHANGE_REQUEST_TYPES)[number];

/** Types the operator completes after the checker confirms them (domain.md: "the operator appoints DAs"). */
export const OPERATOR_TYPES: readonly ChangeRequestType[] = ['appoint_delegated_administrator', 'remove_delegated_administrator'];

/**
 * The life cycle (domain.md; seed 002):
 * `draft` → submit → `ready_for_checker` → claim → `claimed` → confirm → `completed` (or `sent_to_operator`
 * → operator completes → `completed`); `claimed` → reject → `rejected`; `ready_for_checker` → reclaim →
 * `draft`; `draft` → discard → `discarded`. `completed`, `rejected` and `discarded` are final.
 */
export const CHANGE_REQUEST_STATUSES = ['draft', 'ready_for_checker', 'claimed', 'sent_to_operator', 'completed', 'rejected', 'discarded'] as const;

/** One of {@link CHANGE_REQUEST_STATUSES}. */
export type ChangeRequestStatus = (typeof CHANGE_REQUEST_STATUSES)[number];

/** Statuses no transition leaves. */
export const FINAL_STATUSES: readonly ChangeRequestStatus[] = ['completed', 'rejected', 'discarded'];

/** How each status reads on screen (seed 002 wording; `claimed` is followed by "by <name> <time>"). */
export const STATUS_LABELS: Record<ChangeRequestStatus, string> = {
  draft: 'Draft',
  ready_for_checker: 'Ready for checker',
  claimed: 'Claimed',
  sent_to_operator: 'Sent to operator',
  completed: 'Completed',
  rejected: 'Rejected',
  discarded: 'Discarded',
};

/** What a step of the life cycle did; recorded in {@link ChangeRequest.steps}. */
export type ChangeRequestAction = 'created' | 'updated' | 'submitted' | 'reclaimed' | 'discarded' | 'claimed' | 'confirmed' | 'rejected' | 'completed';

/**
 * One timestamped step, with the optional message its author left for the next person
 * ("Any message to the next step user?", seed 002). The rejection comment is the `rejected` step's message.
 */
export interface ChangeRequestStep {
  action: ChangeRequestAction;
  /** The status after the step. */
  status: ChangeRequestStatus;
  /** Account id of the DA, or the operator's actor string (e.g. `operator:<id>`). */
  actor: string;
  at: Date;
  message: string | null;
}

/** A change request as stored. `payload` matches `type` (see `payloads.ts`). */
export interface ChangeRequest {
  id: string;
  /** `UM_` + 8 digits from a PostgreSQL sequence, assigned at the first submission (null for a draft never submitted). */
  reference: string | null;
  organizationId: string;
  type: ChangeRequestType;
  payload: Record<string, unknown>;
  /** What the request does, in a few words, e.g. `Create account jchan01 (Jane Chan)`. */
  title: string;
  status: ChangeRequestStatus;
  makerId: string;
  /** The DA who claimed it; cleared when nobody holds it. */
  checkerId: string | null;
  /** The account the change is about; for `create_account`, set when the account is created. */
  accountId: string | null;
  /** The request this one was cloned from. */
  clonedFromId: string | null;
  /** Starts at 1 and increases on every edit of the content: a checker confirms exactly the version they reviewed. */
  version: number;
  steps: ChangeRequestStep[];
  createdAt: Date;
  /** Time of the last step: the dashboard's "Last update". */
  updatedAt: Date;
  submittedAt: Date | null;
  claimedAt: Date | null;
  /** When the checker confirmed or rejected it. */
  decidedAt: Date | null;
  /** When the change was applied. */
  completedAt: Date | null;
}

/** A request with the names the dashboard shows. */
export interface ChangeRequestView extends ChangeRequest {
  makerName: string;
  checkerName: string | null;
  organizationName: string;
  participantIds: string[];
}
