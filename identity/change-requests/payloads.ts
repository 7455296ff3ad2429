/**
 * The payload of each change request type, validated with zod. Only the fields listed here can be set
 * (mass assignment): a `create_account` payload cannot make a DA — that is its own request type.
 */
import { z } from 'zod';
import { DomainError, toFieldErrors } from '../../lib/index.js';
import { createAccountInput } from '../accounts/account-service.js';
import { parsePublicKey } from '../sftp/keys.js';
import { parseSourceRange } from '../sftp/source-ranges.js';
import type { ChangeRequestType } from './model.js';

const accountRef = z.object({ accountId: z.uuid('Choose an account of this organization.') });

/** A name for a key or address: optional, at most 100 characters, no line breaks. */
const sftpName = z.string().trim().max(100, 'A name has at most 100 characters.').regex(/^[^\r\n]*$/, 'A name is one line.').optional().default('');

/** An SSH public key as pasted: parsed with ssh2 (identity/sftp/keys.ts); stored as pasted, trimmed. */
const publicKeyText = z
  .string({ error: 'Paste the SSH public key (the one line of the .pub file).' })
  .max(16384, 'An SSH public key is at most 16384 characters.')
  .transform((text, ctx) => {
    const parsed = parsePublicKey(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
    return text.trim();
  });

/**
 * An optional expiry: a date `YYYY-MM-DD` (the key works through that day, UTC, and expires at the following
 * midnight UTC) or an ISO 8601 date-time with offset; blank means never. Normalized to an ISO date-time string.
 */
const expiry = z
  .union([z.literal(''), z.iso.date({ error: 'Enter the expiry date as YYYY-MM-DD, or leave it blank.' }), z.iso.datetime({ offset: true, error: 'Enter the expiry date as YYYY-MM-DD, or leave it blank.' })], { error: 'Enter the expiry date as YYYY-MM-DD, or leave it blank.' })
  .optional()
  .transform((value) => {
    if (!value) return null;
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(Date.parse(`${value}T00:00:00Z`) + 86_400_000).toISOString();
    return new Date(value).toISOString();
  });

/** An IP address or CIDR range as typed (identity/sftp/source-ranges.ts), normalized to canonical CIDR. */
const cidrText = z.string({ error: 'Enter an IP address or CIDR range.' }).max(100, 'Enter one IP address or CIDR range.').transform((text, ctx) => {
  const parsed = parseSourceRange(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return parsed.cidr;
});

/** Schemas keyed by type. */
export const PAYLOAD_SCHEMAS = {
  /** A new account with its first membership (no password: the person sets one by link). */
  create_account: createAccountInput.pick({ userId: true, name: true, email: true, phone: true, functions: true }).strict(),
  /** Replaces the membership's functions with `functions`. */
  change_functions: accountRef.extend({ functions: createAccountInput.shape.functions }).strict(),
  suspend_account: accountRef.strict(),
  reactivate_account: accountRef.strict(),
  unlock_account: accountRef.strict(),
  reset_second_factor: accountRef.strict(),
  close_account: accountRef.strict(),
  appoint_delegated_administrator: accountRef.strict(),
  remove_delegated_administrator: accountRef.strict(),
  /** A new SSH public key for the account's SFTP access, with an optional name and expiry. */
  register_sftp_key: accountRef.extend({ publicKey: publicKeyText, name: sftpName, expiresAt: expiry }).strict(),
  /** Removes one of the account's keys (`keyId`: `SftpKey.id`). */
  remove_sftp_key: accountRef.extend({ keyId: z.uuid('Choose a key of this account.') }).strict(),
  /** A source address or range the account may connect from. */
  add_sftp_source_range: accountRef.extend({ cidr: cidrText, name: sftpName }).strict(),
  /** Removes one of the account's source ranges (`rangeId`: `SftpSourceRange.id`). */
  remove_sftp_source_range: accountRef.extend({ rangeId: z.uuid('Choose an address of this account.') }).strict(),
} as const satisfies Record<ChangeRequestType, z.ZodType>;

/** The validated payload of type `T`. */
export type PayloadOf<T extends ChangeRequestType> = z.output<(typeof PAYLOAD_SCHEMAS)[T]>;

/** What a maker may send as the payload of type `T` (before defaults and normalization). */
export type PayloadInput<T extends ChangeRequestType> = z.input<(typeof PAYLOAD_SCHEMAS)[T]>;

/** The payload of a `create_account` request. */
export type CreateAccountPayload = PayloadOf<'create_account'>;

/**
 * Validates `payload` for `type` and returns it normalized (trimmed, email lower-cased, functions defaulted).
 * @throws DomainError `validation_failed` with fieldErrors per payload field.
 */
export function parsePayload<T extends ChangeRequestType>(type: T, payload: unknown): PayloadOf<T> {
  const parsed = PAYLOAD_SCHEMAS[type].safeParse(payload);
  if (!parsed.success) throw new DomainError('validation_failed', 'The request is not valid.', { fieldErrors: toFieldErrors(parsed.error.issues) });
  return parsed.data as PayloadOf<T>;
}

const VERBS: Record<ChangeRequestType, string> = {
  create_account: 'Create account',
  change_functions: 'Change functions of',
  suspend_account: 'Suspend',
  reactivate_account: 'Reactivate',
  unlock_account: 'Unlock',
  reset_second_factor: 'Reset second factor of',
  close_account: 'Close',
  appoint_delegated_administrator: 'Appoint delegated administrator',
  remove_delegated_administrator: 'Remove delegated administrator',
  register_sftp_key: 'Register SFTP key for',
  remove_sftp_key: 'Remove SFTP key of',
  add_sftp_source_range: 'Allow SFTP address for',
  remove_sftp_source_range: 'Remove SFTP address of',
};

/** The request's title: the verb of its type and the account's user ID and name, e.g. `Suspend jchan01 (Jane Chan)`. */
export function titleFor(type: ChangeRequestType, account: { userId: string; name: string }, detail?: string): string {
  return `${VERBS[type]} ${account.userId} (${account.name})${detail ? `: ${detail}` : ''}`;
}
