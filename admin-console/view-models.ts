/**
 * Plain view models for the EJS views: every value a template prints is a string computed here, so the
 * templates only escape and lay out.
 */
import { formatInstant, OPERATOR_REASON_MESSAGES, operatorReasonOf, STATUS_LABELS, type ChangeRequestType, type ChangeRequestView } from '../identity/index.js';

/** The dashboard's "Classification" of each request type (seed 000: "User Maintenance"). */
export const TYPE_LABELS: Record<ChangeRequestType, string> = {
  create_account: 'New account',
  change_functions: 'Change functions',
  suspend_account: 'Suspend account',
  reactivate_account: 'Reactivate account',
  unlock_account: 'Unlock account',
  reset_second_factor: 'Reset second factor',
  close_account: 'Close account',
  appoint_delegated_administrator: 'Appoint delegated administrator',
  remove_delegated_administrator: 'Remove delegated administrator',
  register_sftp_key: 'Register SFTP key',
  remove_sftp_key: 'Remove SFTP key',
  add_sftp_source_range: 'Allow SFTP address',
  remove_sftp_source_range: 'Remove SFTP address',
};

/** A dashboard row. */
export interface RequestRow {
  href: string;
  classification: string;
  organization: string;
  reference: string;
  title: string;
  lastUpdate: string;
  status: string;
  /** Why a request `Sent to operator` waits for the operator; null otherwise. */
  note: string | null;
}

/** The status as shown: `Claimed by Bob Chan 07-Feb-2023 10:45 UTC`, otherwise the label. */
export function statusText(request: ChangeRequestView, timeZone: string): string {
  if (request.status === 'claimed' && request.checkerName && request.claimedAt) {
    return `Claimed by ${request.checkerName} ${formatInstant(request.claimedAt, timeZone)}`;
  }
  return STATUS_LABELS[request.status];
}

/** One dashboard row of `request`. */
export function requestRow(request: ChangeRequestView, timeZone: string): RequestRow {
  return {
    href: `/requests/${encodeURIComponent(request.id)}`,
    classification: `User Maintenance · ${TYPE_LABELS[request.type]}`,
    organization: [request.organizationName, ...request.participantIds].join(' / '),
    reference: request.reference ?? 'Draft',
    title: request.title,
    lastUpdate: formatInstant(request.updatedAt, timeZone),
    status: statusText(request, timeZone),
    note: request.status === 'sent_to_operator' ? OPERATOR_REASON_MESSAGES[operatorReasonOf(request) ?? 'operator_type'] : null,
  };
}
