/**
 * The SFTP gateway's question (issue 14 §2): may this user ID, holding the key with this fingerprint, connect from
 * this source address? The answer is allowed or refused with a stable reason, the acting organization and its
 * participant IDs, the folders the account's functions open (policies' `evaluateSftpFolders`), and how long the
 * gateway may rely on it (`maxAgeSeconds`, SFTP_DECISION_TTL_SECONDS). Nothing is cached here: every question
 * reads the account, its functions, its key and its source ranges afresh, and is one audit event
 * (`sftp.access_allowed` or `sftp.access_refused`). Each question counts towards a throttle of that key from that
 * address, before anything is checked; an allowed answer gives its count back, so only refusals add up.
 */
import { DomainError, validationError, type Clock } from '../../lib/index.js';
import { evaluateSftpFolders, FUNCTIONS, type EcpFolderDefinition } from '../../policies/index.js';
import type { EventBus } from '../events.js';
import type { MembershipWithOrganization } from '../model.js';
import type { AccountStore } from '../stores.js';
import { keyRefusal } from './keys.js';
import type { SftpService } from './sftp-service.js';
import { sourceAllowed } from './source-ranges.js';

/** What the gateway asks. `gateway` is its client id (the access token's `client_id`). */
export interface SftpAccessRequest {
  gateway: string;
  userId: string;
  /** `SHA256:<unpadded base64>` of the key the client proved it holds. */
  fingerprint: string;
  /** The SSH client's address as the gateway saw it (IPv4 or IPv6). */
  sourceIp: string;
}

/** Why an answer is what it is. */
export type SftpAccessReason =
  | 'allowed'
  | 'unknown_account'
  | 'account_suspended'
  | 'account_closed'
  | 'function_missing'
  | 'unknown_key'
  | 'key_removed'
  | 'key_disabled'
  | 'key_expired'
  | 'source_not_allowed'
  | 'throttled';

/** The answer. Refusals carry no organization and no folders. */
export interface SftpAccessDecision {
  allowed: boolean;
  reason: SftpAccessReason;
  /** The account's id (OIDC `sub`); null when the user ID is unknown. */
  accountId: string | null;
  /** The organization the session acts for; null when refused. */
  organization: { id: string; name: string; participantIds: string[] } | null;
  /** In catalogue order; empty when refused. */
  folders: EcpFolderDefinition[];
  /** Seconds the gateway may rely on this answer (never more than SFTP_DECISION_TTL_SECONDS). */
  maxAgeSeconds: number;
  /** Set when `reason` is `throttled`: seconds until the throttle lets this key from this address be asked about again. */
  retryAfterSeconds?: number;
}

/**
 * Counts questions per key and source address (storage/sftp-decision-throttle.ts: rate-limiter-flexible's
 * PostgreSQL store, shared by every instance).
 */
export interface SftpDecisionThrottle {
  /** Counts one question, atomically, before anything is checked; refused when past the limit. */
  consume(fingerprint: string, sourceIp: string): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
  /** Gives back the count of a question that was answered "allowed". */
  forgive(fingerprint: string, sourceIp: string): Promise<void>;
}

/** What the gateway reports after an upload, so its receipt is in the audit log. */
export interface SftpReceipt {
  gateway: string;
  userId: string;
  fingerprint: string;
  sourceIp: string;
  organizationId: string;
  folder: string;
  fileName: string;
  bytes: number;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
}

/** The SFTP gateway's decisions and receipts. */
export interface SftpDecisions {
  /** Answers the gateway's question and records it (audit event). Never throws for a refusal; the database failing throws. */
  decide(request: SftpAccessRequest): Promise<SftpAccessDecision>;
  /**
   * Records an upload's receipt (`sftp.file_received`).
   * @returns the audit event's id.
   * @throws DomainError `not_found` when the user ID is unknown or is no member of the organization, `validation_failed`
   *   (fieldErrors.folder) when the folder is not one of that membership's SFTP submission folders.
   */
  recordReceipt(receipt: SftpReceipt): Promise<{ eventId: string }>;
}

/** What {@link createSftpDecisions} needs; `decisionTtlSeconds` is SFTP_DECISION_TTL_SECONDS. */
export interface SftpDecisionDeps {
  accounts: AccountStore;
  sftp: SftpService;
  throttle: SftpDecisionThrottle;
  events: EventBus;
  clock: Clock;
  decisionTtlSeconds: number;
}

/**
 * The membership an SFTP session acts for: the oldest one holding `EU_ECPSFTP` (an SFTP client cannot choose, as a
 * person does at sign-in). Null when none holds it.
 */
export function sftpMembership(memberships: readonly MembershipWithOrganization[]): MembershipWithOrganization | null {
  return memberships.find((m) => m.functions.includes(FUNCTIONS.EU_ECPSFTP.name)) ?? null;
}

/** Creates the decisions service. */
export function createSftpDecisions(deps: SftpDecisionDeps): SftpDecisions {
  const { accounts, sftp, throttle, events, clock, decisionTtlSeconds } = deps;
  const refusal = (reason: SftpAccessReason, accountId: string | null): SftpAccessDecision => ({ allowed: false, reason, accountId, organization: null, folders: [], maxAgeSeconds: decisionTtlSeconds });

  /** The answer, before it is recorded; `organizationId` is for the audit event. */
  async function evaluate(request: SftpAccessRequest, now: Date): Promise<{ decision: SftpAccessDecision; organizationId: string | null; keyId?: string }> {
    const account = await accounts.findByLogin(request.userId);
    // The user ID is a login name: an email address is not accepted here.
    if (!account || account.userId.toLowerCase() !== request.userId.toLowerCase()) return { decision: refusal('unknown_account', null), organizationId: null };
    if (account.status !== 'active') return { decision: refusal(account.status === 'suspended' ? 'account_suspended' : 'account_closed', account.id), organizationId: null };
    const membership = sftpMembership(await accounts.listMemberships(account.id));
    if (!membership) return { decision: refusal('function_missing', account.id), organizationId: null };
    const organizationId = membership.organizationId;
    // The key and the source ranges are independent reads: one wait instead of two (checked in the same order).
    const [key, ranges] = await Promise.all([sftp.findKey(account.id, request.fingerprint), sftp.listSourceRanges(account.id)]);
    const keyProblem = keyRefusal(key, now);
    if (keyProblem || !key) return { decision: refusal(keyProblem ?? 'unknown_key', account.id), organizationId };
    if (!sourceAllowed(request.sourceIp, ranges.map((r) => r.cidr))) return { decision: refusal('source_not_allowed', account.id), organizationId, keyId: key.id };
    const { organization } = membership;
    const decision: SftpAccessDecision = {
      allowed: true,
      reason: 'allowed',
      accountId: account.id,
      organization: { id: organization.id, name: organization.name, participantIds: organization.participantIds },
      folders: evaluateSftpFolders(membership.functions).folders,
      maxAgeSeconds: decisionTtlSeconds,
    };
    return { decision, organizationId, keyId: key.id };
  }

  return {
    async decide(request) {
      const now = clock.now();
      const counted = await throttle.consume(request.fingerprint, request.sourceIp);
      const { decision, organizationId, keyId } = counted.allowed
        ? await evaluate(request, now)
        : { decision: { ...refusal('throttled', null), retryAfterSeconds: counted.retryAfterSeconds }, organizationId: null, keyId: undefined };
      if (decision.allowed) {
        await throttle.forgive(request.fingerprint, request.sourceIp);
        await sftp.recordKeyUse(keyId!, request.sourceIp, now);
      }
      await events.publish(
        {
          type: decision.allowed ? 'sftp.access_allowed' : 'sftp.access_refused',
          accountId: decision.accountId,
          organizationId,
          actor: `client:${request.gateway}`,
          ip: request.sourceIp,
          data: {
            gateway: request.gateway,
            userId: request.userId,
            fingerprint: request.fingerprint,
            ...(decision.allowed ? { folders: decision.folders.map((f) => f.name), maxAgeSeconds: decision.maxAgeSeconds } : { reason: decision.reason }),
            ...(keyId ? { keyId } : {}),
          },
        },
        now,
      );
      return decision;
    },

    async recordReceipt(receipt) {
      const account = await accounts.findByLogin(receipt.userId);
      const membership = account && (await accounts.listMemberships(account.id)).find((m) => m.organizationId === receipt.organizationId);
      if (!account || !membership) throw notFound();
      const folder = evaluateSftpFolders(membership.functions).folders.find((f) => f.name === receipt.folder);
      if (folder?.kind !== 'submission') throw folderError();
      const event = await events.publish(
        {
          type: 'sftp.file_received',
          accountId: account.id,
          organizationId: receipt.organizationId,
          actor: `client:${receipt.gateway}`,
          ip: receipt.sourceIp,
          data: { gateway: receipt.gateway, fingerprint: receipt.fingerprint, folder: receipt.folder, fileName: receipt.fileName, bytes: receipt.bytes, sha256: receipt.sha256 },
        },
        clock.now(),
      );
      return { eventId: event.id };
    },
  };
}

function notFound(): DomainError {
  return new DomainError('not_found', 'No such account in that organization.');
}

function folderError(): DomainError {
  return validationError({ folder: ['Not a submission folder this account reaches through SFTP.'] }, 'The receipt is not valid.');
}
