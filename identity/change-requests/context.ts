/**
 * What every change-request use case shares: its dependencies, the acting DA, and the access rule — a DA
 * acts only on requests of organizations where they hold a delegated administrator membership; anything
 * else answers `not_found`, never `forbidden` (design/style.md §5).
 */
import { z } from 'zod';
import { DomainError, toFieldErrors, type Clock, type Mailer } from '../../lib/index.js';
import type { EventBus } from '../events.js';
import type { Account } from '../model.js';
import type { SftpStore } from '../sftp/stores.js';
import type { AccountStore } from '../stores.js';
import type { ChangeRequestView } from './model.js';
import type { ChangeRequestStore } from './stores.js';

/** What {@link createChangeRequestService} needs. */
export interface ChangeRequestDeps {
  changeRequests: ChangeRequestStore;
  accounts: AccountStore;
  /** SFTP keys and source ranges (for the SFTP request types' checks). */
  sftp: SftpStore;
  events: EventBus;
  mailer: Mailer;
  clock: Clock;
  /** Product name in mail subjects, e.g. `connect-iam`. */
  displayName: string;
  /** IANA time zone for times in messages and mails (default `UTC`), e.g. `Asia/Hong_Kong`. */
  timeZone?: string;
  /** Accounts per organization, DAs included (default `ACCOUNT_QUOTA_PER_ORGANIZATION`, 20). */
  quota?: number;
  /**
   * Emails a just-created account its single-use set-password link (identity/recovery's
   * `PasswordRecovery.sendSetPasswordLink`). Never rejects; resolves to null when sent, else the failure's error id.
   */
  sendSetPasswordLink: (accountId: string, context: { reference: string | null; actor: string; organizationId: string }) => Promise<string | null>;
}

/** The DA acting: their account id and, for the audit log, the client IP. */
export interface ChangeRequestActor {
  accountId: string;
  ip?: string | null;
}

/** Deps with defaults filled in. */
export type ChangeRequestContext = Required<ChangeRequestDeps>;

/**
 * The actor's account when it holds a delegated administrator membership in `organizationId`.
 * @throws DomainError `not_found` otherwise (whether the organization exists or not).
 */
export async function requireDelegatedAdministrator(ctx: ChangeRequestContext, actorId: string, organizationId: string): Promise<Account> {
  const account = await ctx.accounts.findById(actorId);
  const memberships = account && account.status === 'active' ? await ctx.accounts.listMemberships(actorId) : [];
  if (!account || !memberships.some((m) => m.organizationId === organizationId && m.delegatedAdministrator)) {
    throw new DomainError('not_found', 'No such organization among those you administer.');
  }
  return account;
}

/**
 * The request, when the actor is a DA of its organization.
 * @throws DomainError `not_found` when it does not exist or belongs to an organization the actor does not administer.
 */
export async function getForActor(ctx: ChangeRequestContext, actorId: string, requestId: string): Promise<ChangeRequestView> {
  const request = await ctx.changeRequests.findById(requestId);
  if (!request) throw new DomainError('not_found', 'No such change request.');
  try {
    await requireDelegatedAdministrator(ctx, actorId, request.organizationId);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'not_found') throw new DomainError('not_found', 'No such change request.');
    throw error;
  }
  return request;
}

/** The message a person leaves for the next step: optional, at most 2000 characters; blank means none. */
export const stepMessage = z
  .string()
  .trim()
  .max(2000, 'A message has at most 2000 characters.')
  .optional()
  .transform((m) => (m ? m : null));

/** A rejection comment: required, at most 2000 characters. */
export const rejectionComment = z.string().trim().min(1, 'Say why the request is rejected.').max(2000, 'A comment has at most 2000 characters.');

/** Parses with `schema`, naming the field in the errors. @throws DomainError `validation_failed`. */
export function parseField<T extends z.ZodType>(schema: T, field: string, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DomainError('validation_failed', parsed.error.issues[0]?.message ?? 'Not valid.', { fieldErrors: toFieldErrors(parsed.error.issues.map((i) => ({ ...i, path: [field] }))) });
  return parsed.data;
}
