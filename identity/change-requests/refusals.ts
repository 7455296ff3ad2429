/**
 * Why a transition did not happen, in words a person can act on. Called after a conditional UPDATE matched
 * no row: the request is read again and its current state explains the refusal ("already claimed by D Wong
 * on 07-Feb-2023 10:45 HKT", "the request changed since you reviewed it").
 */
import { DomainError } from '../../lib/index.js';
import { formatInstant } from './format-time.js';
import type { ChangeRequestView } from './model.js';

/** What the caller tried to do. */
export type AttemptedAction = 'update' | 'submit' | 'reclaim' | 'discard' | 'claim' | 'confirm' | 'reject' | 'complete';

/** How the message of a version mismatch starts (design/security.md §8: the checker confirms exactly the version reviewed). */
export const VERSION_CHANGED = 'The request changed since you reviewed it';

/** How to name a request in messages: its reference, or "This draft". */
export function nameOf(request: { reference: string | null }): string {
  return request.reference ?? 'This draft';
}

/**
 * The error explaining why `action` by `actorId` was refused on `current` (the request as read after the refusal).
 * @param reviewedVersion - for `confirm` and `update`: the version the caller saw.
 * @returns DomainError `conflict` (someone else got there first, or the request changed), or `forbidden`
 *   (the actor is not the maker, or not the checker, of a request of their own organization).
 */
export function refusal(current: ChangeRequestView, actorId: string, action: AttemptedAction, timeZone: string, reviewedVersion?: number): DomainError {
  const name = nameOf(current);
  const at = (date: Date | null) => (date ? formatInstant(date, timeZone) : '');
  const makerOnly = action === 'update' || action === 'submit' || action === 'reclaim' || action === 'discard';
  if (makerOnly && current.makerId !== actorId) return new DomainError('forbidden', `Only the maker, ${current.makerName}, can ${action} ${name}.`);
  if (reviewedVersion !== undefined && current.version !== reviewedVersion && (current.status === 'claimed' || current.status === 'draft')) {
    return new DomainError('conflict', `${VERSION_CHANGED} (you saw version ${reviewedVersion}; it is now version ${current.version}). Review it again.`);
  }
  switch (current.status) {
    case 'claimed':
      if (current.checkerId === actorId) return new DomainError('conflict', `You already claimed ${name}.`);
      return new DomainError('conflict', `${name} is already claimed by ${current.checkerName ?? 'another administrator'} on ${at(current.claimedAt)}.`);
    case 'ready_for_checker':
      if (action === 'confirm' || action === 'reject') return new DomainError('conflict', `Claim ${name} before you ${action} it.`);
      return new DomainError('conflict', `${name} was submitted on ${at(current.submittedAt)}; reclaim it to change it.`);
    case 'draft':
      return new DomainError('conflict', `${name} is a draft: its maker has not submitted it.`);
    case 'sent_to_operator':
      return new DomainError('conflict', `${name} was already confirmed by ${current.checkerName ?? 'another administrator'} on ${at(current.decidedAt)} and sent to the operator.`);
    case 'completed':
      return new DomainError('conflict', `${name} is already completed (${at(current.completedAt)}).`);
    case 'rejected':
      return new DomainError('conflict', `${name} was already rejected on ${at(current.decidedAt)}.`);
    case 'discarded':
      return new DomainError('conflict', `${name} was discarded on ${at(current.updatedAt)}.`);
  }
}
