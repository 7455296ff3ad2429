/**
 * The ECP SFTP request types (issue 14 §1): `register_sftp_key`, `remove_sftp_key`, `add_sftp_source_range`,
 * `remove_sftp_source_range`. The maker must be a delegated administrator holding ECP administration
 * (`SFTP_ADMINISTRATION_FUNCTION`, EU_ECPAdmin); registrations need the account's membership to hold
 * `SFTP_FUNCTION` (EU_ECPSFTP) and stay within the per-account limits. Checked when a draft is saved, again at
 * submission, and under a lock of the account row when the change is applied.
 */
import { DomainError, newId } from '../../lib/index.js';
import { SFTP_ADMINISTRATION_FUNCTION, SFTP_FUNCTION, SFTP_MAX_KEYS_PER_ACCOUNT, SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT } from '../../policies/index.js';
import type { EventInput } from '../events.js';
import { parsePublicKey } from '../sftp/keys.js';
import type { ChangeRequestContext } from './context.js';
import { SFTP_TYPES, type ChangeRequest, type ChangeRequestType } from './model.js';
import type { PayloadOf } from './payloads.js';
import type { ChangeApplier } from './stores.js';
import type { Target } from './targets.js';

/** True for the four SFTP request types. */
export function isSftpType(type: ChangeRequestType): boolean {
  return SFTP_TYPES.includes(type);
}

/**
 * Refuses a maker who holds no ECP administration function in `organizationId`.
 * @throws DomainError `forbidden` ("Only a delegated administrator holding ECP administration (EU_ECPAdmin) …").
 */
export async function requireSftpMaker(ctx: ChangeRequestContext, actorId: string, organizationId: string): Promise<void> {
  const membership = (await ctx.accounts.listMemberships(actorId)).find((m) => m.organizationId === organizationId);
  if (!membership?.functions.includes(SFTP_ADMINISTRATION_FUNCTION)) {
    throw new DomainError('forbidden', `Only a delegated administrator holding ECP administration (${SFTP_ADMINISTRATION_FUNCTION}) can request SFTP key and address changes.`);
  }
}

const fieldError = (code: 'conflict' | 'quota_exceeded' | 'validation_failed' | 'not_found', field: string, message: string) => new DomainError(code, message, { fieldErrors: { [field]: [message] } });

/**
 * Checks an SFTP request against the target account as it is now, and says what its title names (the key's
 * fingerprint or the range). Used when a draft is saved and when it is submitted.
 * @throws DomainError `conflict` (EU_ECPSFTP not held, key or range already registered, key already removed),
 *   `quota_exceeded` (5 keys, 10 ranges), `validation_failed` (expiry in the past), `not_found` (no such key or range);
 *   each with fieldErrors on the form field.
 */
export async function checkSftpRequest(ctx: ChangeRequestContext, type: ChangeRequestType, payload: Record<string, unknown>, { account, membership }: Target): Promise<string> {
  const who = account.userId;
  const needsFunction = () => {
    if (!membership.functions.includes(SFTP_FUNCTION)) throw fieldError('conflict', 'accountId', `${who} does not hold ${SFTP_FUNCTION}: grant it first, then register SFTP keys and addresses.`);
  };
  switch (type) {
    case 'register_sftp_key': {
      const p = payload as PayloadOf<'register_sftp_key'>;
      needsFunction();
      const parsed = parsePublicKey(p.publicKey);
      if (!parsed.ok) throw fieldError('validation_failed', 'publicKey', parsed.message);
      if (p.expiresAt && Date.parse(p.expiresAt) <= ctx.clock.now().getTime()) throw fieldError('validation_failed', 'expiresAt', 'The expiry date has passed: choose a later date, or leave it blank.');
      const keys = (await ctx.sftp.listKeys(account.id)).filter((k) => !k.disabledAt);
      if (keys.some((k) => k.fingerprint === parsed.key.fingerprint)) throw fieldError('conflict', 'publicKey', `This key (${parsed.key.fingerprint}) is already registered for ${who}.`);
      if (keys.length >= SFTP_MAX_KEYS_PER_ACCOUNT) throw fieldError('quota_exceeded', 'publicKey', `${who} has ${keys.length} of ${SFTP_MAX_KEYS_PER_ACCOUNT} SFTP keys; the limit is ${SFTP_MAX_KEYS_PER_ACCOUNT}. Remove one first.`);
      return parsed.key.fingerprint;
    }
    case 'remove_sftp_key': {
      const key = await ctx.sftp.findKeyById(account.id, (payload as PayloadOf<'remove_sftp_key'>).keyId);
      if (!key) throw fieldError('not_found', 'keyId', `${who} has no such SFTP key.`);
      if (key.removedAt) throw fieldError('conflict', 'keyId', `The key ${key.fingerprint} was already removed.`);
      return key.fingerprint;
    }
    case 'add_sftp_source_range': {
      const p = payload as PayloadOf<'add_sftp_source_range'>;
      needsFunction();
      const ranges = await ctx.sftp.listSourceRanges(account.id);
      if (ranges.some((r) => r.cidr === p.cidr)) throw fieldError('conflict', 'cidr', `${p.cidr} is already allowed for ${who}.`);
      if (ranges.length >= SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT) throw fieldError('quota_exceeded', 'cidr', `${who} has ${ranges.length} of ${SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT} SFTP source addresses; the limit is ${SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT}. Remove one first.`);
      return p.cidr;
    }
    case 'remove_sftp_source_range': {
      const range = await ctx.sftp.findSourceRangeById(account.id, (payload as PayloadOf<'remove_sftp_source_range'>).rangeId);
      if (!range) throw fieldError('not_found', 'rangeId', `${who} has no such SFTP source address.`);
      if (range.removedAt) throw fieldError('conflict', 'rangeId', `${range.cidr} was already removed.`);
      return range.cidr;
    }
    default:
      throw new Error(`not an SFTP request type: ${type}`);
  }
}

/**
 * Applies a confirmed SFTP request through `applier` (in its transaction).
 * @returns its audit event (`sftp_key.registered`, `sftp_key.removed`, `sftp_source_range.added`, `sftp_source_range.removed`).
 * @throws DomainError as the applier's methods (limits, duplicates, function no longer held); the transaction rolls back.
 */
export async function applySftpChange(applier: ChangeApplier, request: ChangeRequest, base: Omit<EventInput, 'type' | 'data'>, data: Record<string, unknown>, now: Date): Promise<EventInput> {
  const accountId = request.accountId!;
  const rules = { organizationId: request.organizationId, requiredFunction: SFTP_FUNCTION };
  switch (request.type) {
    case 'register_sftp_key': {
      const p = request.payload as PayloadOf<'register_sftp_key'>;
      const parsed = parsePublicKey(p.publicKey);
      if (!parsed.ok) throw new DomainError('validation_failed', parsed.message, { fieldErrors: { publicKey: [parsed.message] } });
      const { algorithm, bits, fingerprint, publicKey, comment } = parsed.key;
      const expiresAt = p.expiresAt ? new Date(p.expiresAt) : null;
      await applier.addSftpKey({ id: newId(), accountId, algorithm, bits, fingerprint, publicKey, comment: p.name || comment, addedAt: now, expiresAt, addedByRequestId: request.id }, { ...rules, limit: SFTP_MAX_KEYS_PER_ACCOUNT });
      return { type: 'sftp_key.registered', ...base, data: { ...data, fingerprint, algorithm, bits, name: p.name || comment, expiresAt: expiresAt?.toISOString() ?? null } };
    }
    case 'remove_sftp_key': {
      const key = await applier.removeSftpKey(accountId, (request.payload as PayloadOf<'remove_sftp_key'>).keyId, request.id, now);
      return { type: 'sftp_key.removed', ...base, data: { ...data, keyId: key.id, fingerprint: key.fingerprint } };
    }
    case 'add_sftp_source_range': {
      const p = request.payload as PayloadOf<'add_sftp_source_range'>;
      await applier.addSftpSourceRange({ id: newId(), accountId, cidr: p.cidr, comment: p.name, addedAt: now, addedByRequestId: request.id }, { ...rules, limit: SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT });
      return { type: 'sftp_source_range.added', ...base, data: { ...data, cidr: p.cidr, name: p.name } };
    }
    case 'remove_sftp_source_range': {
      const range = await applier.removeSftpSourceRange(accountId, (request.payload as PayloadOf<'remove_sftp_source_range'>).rangeId, request.id, now);
      return { type: 'sftp_source_range.removed', ...base, data: { ...data, rangeId: range.id, cidr: range.cidr } };
    }
    default:
      throw new Error(`not an SFTP request type: ${request.type}`);
  }
}

/**
 * After a membership's functions changed: when the account no longer holds `EU_ECPSFTP` in any organization,
 * its keys are disabled in the same transaction. @returns the `sftp_key.disabled` event, or none.
 */
export async function disableKeysIfSftpRemoved(applier: ChangeApplier, before: readonly string[], after: readonly string[], base: Omit<EventInput, 'type' | 'data'>, data: Record<string, unknown>, now: Date): Promise<EventInput[]> {
  if (!before.includes(SFTP_FUNCTION) || after.includes(SFTP_FUNCTION)) return [];
  const fingerprints = await applier.disableSftpKeysWithout(base.accountId!, SFTP_FUNCTION, now);
  return fingerprints.length ? [{ type: 'sftp_key.disabled', ...base, data: { ...data, keys: fingerprints.length, fingerprints } }] : [];
}
