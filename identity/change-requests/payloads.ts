/**
 * The payload of each change request type, validated with zod. Only the fields listed here can be set
 * (mass assignment): a `create_account` payload cannot make a DA — that is its own request type.
 */
import { z } from 'zod';
import { DomainError, toFieldErrors } from '../../lib/index.js';
import { createAccountInput } from '../accounts/account-service.js';
import type { ChangeRequestType } from './model.js';

const accountRef = z.object({ accountId: z.uuid('Choose an account of this organization.') });

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
};

/** The request's title: the verb of its type and the account's user ID and name, e.g. `Suspend jchan01 (Jane Chan)`. */
export function titleFor(type: ChangeRequestType, account: { userId: string; name: string }): string {
  return `${VERBS[type]} ${account.userId} (${account.name})`;
}
