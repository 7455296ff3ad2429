/**
 * The request page's view model: details, the steps timeline with names and times, and the actions the
 * request's status allows for this actor (the service enforces the same rules; this only hides buttons).
 */
import { formatInstant, OPERATOR_REASON_MESSAGES, SFTP_TYPES, STATUS_LABELS, type ChangeRequestView, type Identity } from '../identity/index.js';
import type { AdminContext } from './options.js';
import { sftpRequestDetails } from './sftp-access.js';
import { statusText, TYPE_LABELS } from './view-models.js';

/** Actions the request page can post, in the order shown. */
export const REQUEST_ACTIONS = ['submit', 'claim', 'confirm', 'reject', 'reclaim', 'discard', 'clone'] as const;
/** One of {@link REQUEST_ACTIONS}. */
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

/** Which actions `actorId` may take on `request` now. */
export function allowedActions(request: ChangeRequestView, actorId: string): RequestAction[] {
  const maker = request.makerId === actorId;
  const actions: RequestAction[] = [];
  if (request.status === 'draft' && maker) actions.push('submit', 'discard');
  if (request.status === 'ready_for_checker' && !maker) actions.push('claim');
  if (request.status === 'ready_for_checker' && maker) actions.push('reclaim');
  if (request.status === 'claimed' && request.checkerId === actorId) actions.push('confirm', 'reject');
  actions.push('clone');
  return actions;
}

async function namesOf(identity: Identity, request: ChangeRequestView): Promise<Map<string, string>> {
  const names = new Map<string, string>([[request.makerId, request.makerName]]);
  if (request.checkerId && request.checkerName) names.set(request.checkerId, request.checkerName);
  for (const step of request.steps) {
    if (names.has(step.actor)) continue;
    const found = step.actor.startsWith('operator') ? null : await identity.accounts.findAccount(step.actor);
    names.set(step.actor, found ? found.account.name : 'The operator');
  }
  return names;
}

/** Payload fields as label/value pairs (strings only). */
function details(request: ChangeRequestView, timeZone: string): Array<{ label: string; value: string }> {
  const p = request.payload;
  const text = (v: unknown) => (Array.isArray(v) ? v.join(', ') || '—' : typeof v === 'string' ? v : '—');
  if (request.type === 'create_account') {
    return [['User ID', p.userId], ['Name', p.name], ['Email', p.email], ['Phone', p.phone], ['Functions', p.functions]].map(([label, v]) => ({ label: label as string, value: text(v) }));
  }
  if (SFTP_TYPES.includes(request.type)) return sftpRequestDetails(request.type, p, timeZone);
  return 'functions' in p ? [{ label: 'Functions', value: text(p.functions) }] : [];
}

/** Why the operator completes (or completed) the request, or null when the checker does (docs/policies.md). */
async function operatorNote(identity: Identity, request: ChangeRequestView): Promise<string | null> {
  const { reason } = await identity.changeRequests.completion(request);
  return reason ? OPERATOR_REASON_MESSAGES[reason] : null;
}

/** The view model of `/requests/:id`. */
export async function requestPageModel(identity: Identity, admin: AdminContext, request: ChangeRequestView) {
  const names = await namesOf(identity, request);
  return {
    id: request.id,
    reference: request.reference ?? 'Draft (no reference yet)',
    title: request.title,
    classification: TYPE_LABELS[request.type],
    organization: [request.organizationName, ...request.participantIds].join(' / '),
    status: statusText(request, admin.timeZone),
    maker: request.makerName,
    version: request.version,
    details: details(request, admin.timeZone),
    steps: request.steps.map((s) => ({ who: names.get(s.actor) ?? 'Someone', what: STATUS_LABELS[s.status], action: s.action, at: formatInstant(s.at, admin.timeZone), message: s.message })),
    actions: allowedActions(request, admin.actor.accountId),
    operatorNote: await operatorNote(identity, request),
  };
}
