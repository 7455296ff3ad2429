/**
 * The change request service (maker-checker, design/domain.md): the verbs of the life cycle, each an
 * atomic transition that publishes a `change_request.*` event. DAs act only in organizations where they
 * hold a delegated administrator membership (elsewhere: `not_found`). Times in messages use `timeZone`.
 */
import { DomainError } from '../../lib/index.js';
import { ACCOUNT_QUOTA_PER_ORGANIZATION } from '../../policies/index.js';
import { claim, confirm, reject } from './checker.js';
import { completionOf, type Completion } from './completion.js';
import type { ChangeRequestActor, ChangeRequestDeps } from './context.js';
import { countTasks, getRequest, listRequests, type DashboardPage, type dashboardQuery } from './dashboard.js';
import { clone, createDraft, discard, reclaim, submit, updateDraft, type DraftInput } from './maker.js';
import type { ChangeRequestView } from './model.js';
import { completeByOperator, rejectByOperator, resetSecondFactorDirectly, type SecondFactorReset } from './operator.js';
import type { ChangeRequestQuery } from './stores.js';
import type { z } from 'zod';

/**
 * Maker-checker use cases. Every method throws DomainError: `not_found` for requests or organizations the
 * actor does not administer, `validation_failed` with fieldErrors for bad input, `forbidden` when a DA of the
 * organization is not the one who may act (maker ≠ checker), `conflict` when the request is not in the
 * required state (the message says why: "already claimed by D Wong on 07-Feb-2023 10:45 UTC", "the request
 * changed since you reviewed it"), `quota_exceeded` (message: "The organization has 20 of 20 accounts; the limit is 20.").
 * Every method returns the request as it is afterwards.
 */
export interface ChangeRequestService {
  /** Saves a new draft (version 1). The payload is validated per type (`PAYLOAD_SCHEMAS`). */
  createDraft(actor: ChangeRequestActor, input: DraftInput): Promise<ChangeRequestView>;
  /** Replaces a draft's payload when its version is still `version`; the version increases by one. Maker only. */
  updateDraft(actor: ChangeRequestActor, requestId: string, input: { payload: unknown; version: number; message?: string }): Promise<ChangeRequestView>;
  /** Draft → `ready_for_checker`: assigns the reference (`UM_00000001`), checks the quota for `create_account`, emails the other DAs. Maker only. */
  submit(actor: ChangeRequestActor, requestId: string, input?: { message?: string; version?: number }): Promise<ChangeRequestView>;
  /** `ready_for_checker` (nobody claimed it) → draft. Maker only. */
  reclaim(actor: ChangeRequestActor, requestId: string, input?: { message?: string }): Promise<ChangeRequestView>;
  /** A new draft with the same type and payload, made by the actor. */
  clone(actor: ChangeRequestActor, requestId: string): Promise<ChangeRequestView>;
  /** Draft → `discarded` (final). Maker only. */
  discard(actor: ChangeRequestActor, requestId: string): Promise<ChangeRequestView>;
  /** `ready_for_checker` → `claimed` by the actor, who must not be the maker. One of racing claimers wins. */
  claim(actor: ChangeRequestActor, requestId: string, input?: { message?: string }): Promise<ChangeRequestView>;
  /**
   * `claimed` by the actor, at `reviewedVersion` → `completed` with the change applied in the same transaction
   * (or `sent_to_operator`, nothing applied, for DA appointment and removal and for an account-wide change to an
   * account that is also a member of another organization); emails the maker. One of racing confirmations wins.
   */
  confirm(actor: ChangeRequestActor, requestId: string, reviewedVersion: number, input?: { message?: string }): Promise<ChangeRequestView>;
  /** `claimed` by the actor → `rejected`; `comment` (required) is emailed to the maker. */
  reject(actor: ChangeRequestActor, requestId: string, comment: string): Promise<ChangeRequestView>;
  /** The operator applies a `sent_to_operator` request → `completed`. `operator` is the audit actor string. */
  completeByOperator(operator: string, requestId: string, input?: { message?: string }): Promise<ChangeRequestView>;
  /** The operator rejects a `sent_to_operator` request with a comment. */
  rejectByOperator(operator: string, requestId: string, comment: string): Promise<ChangeRequestView>;
  /**
   * The operator resets the account's second factor without a request (operator CLI): its authenticator app and
   * passkeys are removed as a confirmed `reset_second_factor` removes them; the holder is emailed. @throws DomainError `not_found`.
   */
  resetSecondFactorDirectly(operator: string, accountId: string): Promise<SecondFactorReset>;
  /** One request; other makers' drafts answer `not_found`. */
  getRequest(actor: ChangeRequestActor, requestId: string): Promise<ChangeRequestView>;
  /** A dashboard page (view, search, filters), newest update first. */
  list(actor: ChangeRequestActor, query: z.input<typeof dashboardQuery>): Promise<DashboardPage>;
  /** The on-screen notification count: requests to check plus requests returned to the actor. */
  countTasks(actor: ChangeRequestActor, organizationId: string): Promise<number>;
  /** Every organization's requests (operator screens; default: those `sent_to_operator`). No access check: the caller is the operator. */
  listForOperator(query?: Omit<ChangeRequestQuery, 'viewerId' | 'checkableBy'>): Promise<DashboardPage>;
  /** Any organization's request, drafts excepted (operator screens; no access check: the caller is the operator). @throws DomainError `not_found`. */
  getForOperator(requestId: string): Promise<ChangeRequestView>;
  /**
   * Who completes `request` (one the caller already read through {@link getRequest} or {@link getForOperator})
   * and why (docs/policies.md): for an open request, what confirming it would do now; for one that went to the
   * operator, why it did.
   */
  completion(request: ChangeRequestView): Promise<Completion>;
}

/** Creates the service. */
export function createChangeRequestService(deps: ChangeRequestDeps): ChangeRequestService {
  const ctx = { ...deps, timeZone: deps.timeZone ?? 'UTC', quota: deps.quota ?? ACCOUNT_QUOTA_PER_ORGANIZATION };
  return {
    createDraft: (actor, input) => createDraft(ctx, actor, input),
    updateDraft: (actor, id, input) => updateDraft(ctx, actor, id, input),
    submit: (actor, id, input) => submit(ctx, actor, id, input),
    reclaim: (actor, id, input) => reclaim(ctx, actor, id, input),
    clone: (actor, id) => clone(ctx, actor, id),
    discard: (actor, id) => discard(ctx, actor, id),
    claim: (actor, id, input) => claim(ctx, actor, id, input),
    confirm: (actor, id, version, input) => confirm(ctx, actor, id, version, input),
    reject: (actor, id, comment) => reject(ctx, actor, id, comment),
    completeByOperator: (operator, id, input) => completeByOperator(ctx, operator, id, input),
    rejectByOperator: (operator, id, comment) => rejectByOperator(ctx, operator, id, comment),
    resetSecondFactorDirectly: (operator, accountId) => resetSecondFactorDirectly(ctx, operator, accountId),
    getRequest: (actor, id) => getRequest(ctx, actor, id),
    list: (actor, query) => listRequests(ctx, actor, query),
    countTasks: (actor, organizationId) => countTasks(ctx, actor, organizationId),
    listForOperator: (query = { statuses: ['sent_to_operator'] }) => ctx.changeRequests.list(query),
    async getForOperator(requestId) {
      const request = await ctx.changeRequests.findById(requestId);
      if (!request || request.status === 'draft') throw new DomainError('not_found', 'No such change request.');
      return request;
    },
    completion: (request) => completionOf(ctx, request),
  };
}
