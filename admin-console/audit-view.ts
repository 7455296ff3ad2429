/**
 * Audit events as the audit log page and its CSV show them: time in the deployment's time zone, the event
 * type, the account (user ID and name), who caused it with the IP, and the event's details as text.
 */
import { formatInstant, type Account, type AuditEvent, type Identity } from '../identity/index.js';

/** One row of the audit log; every value is display text (empty when unknown). */
export interface AuditRow {
  time: string;
  /** ISO 8601 UTC, for the CSV and the `<time datetime>` attribute. */
  isoTime: string;
  event: string;
  /** `userId (name)` of the account the event is about; its id when the account no longer exists. */
  account: string;
  /** The account's user ID and name apart, for the CSV (empty when unknown). */
  accountUserId: string;
  accountName: string;
  /** Who caused it: `userId (name)` for an account id, otherwise the stored actor string. */
  actor: string;
  ip: string;
  details: string;
}

/** The CSV header, matching {@link auditCsvRecord}. */
export const AUDIT_CSV_HEADER = ['Time', 'Time (UTC, ISO 8601)', 'Event', 'User ID', 'Name', 'Actor', 'IP', 'Details'] as const;

/** The cells of `row` in {@link AUDIT_CSV_HEADER} order. */
export function auditCsvRecord(row: AuditRow): string[] {
  return [row.time, row.isoTime, row.event, row.accountUserId || row.account, row.accountName, row.actor, row.ip, row.details];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The factors events name (`data.factor`), in words: RFC 8176 `amr` values and our own. */
const FACTOR_NAMES: Record<string, string> = { pwd: 'password', otp: 'emailed code', totp: 'authenticator app', passkey: 'passkey', app: 'authenticator app', email: 'emailed code' };

/**
 * The second factor of a sign-in from its RFC 8176 `amr` when the event does not name it: `hwk` (or `swk`
 * without `otp`) is a passkey, `otp` with `swk` the authenticator app (APP_SIGN_IN_AMR), `otp` alone an
 * emailed code. Null when it cannot tell.
 */
export function factorOfAmr(amr: unknown): string | null {
  if (!Array.isArray(amr)) return null;
  if (amr.includes('hwk') || (amr.includes('swk') && !amr.includes('otp'))) return 'passkey';
  if (amr.includes('otp')) return amr.includes('swk') ? 'totp' : 'otp';
  return null;
}

/**
 * `key: value` pairs of the event's data, in stored order; objects as JSON, nulls left out. The factor is named
 * in words (`factor: authenticator app (totp)`); a sign-in that does not name it gets it from its `amr`, first.
 */
export function describeData(data: Record<string, unknown>, type?: string): string {
  const derived = type === 'account.signed_in' && data.factor === undefined ? factorOfAmr(data.amr) : null;
  const entries = derived ? [['factor', derived] as [string, unknown], ...Object.entries(data)] : Object.entries(data);
  return entries
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => (k === 'factor' && typeof v === 'string' && FACTOR_NAMES[v] ? `factor: ${FACTOR_NAMES[v]} (${v})` : `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`))
    .join('; ');
}

/** Finds an account by id, or null (also for ids that are not account ids, such as `operator:…`). */
export type AccountLookup = (id: string | null) => Promise<Account | null>;

/** An {@link AccountLookup} that asks the store once per id (events name accounts by id). */
export function createAccountLookup(identity: Identity): AccountLookup {
  const cache = new Map<string, Promise<Account | null>>();
  return async (id) => {
    if (!id || !UUID.test(id)) return null;
    if (!cache.has(id)) cache.set(id, identity.stores.accounts.findById(id));
    return (await cache.get(id)) ?? null;
  };
}

/** The rows of `events`, naming accounts and actors through `lookup` (see {@link createAccountLookup}). */
export async function auditRows(events: readonly AuditEvent[], timeZone: string, lookup: AccountLookup): Promise<AuditRow[]> {
  const label = (account: Account | null, id: string | null) => (account ? `${account.userId} (${account.name})` : (id ?? ''));
  return Promise.all(
    events.map(async (e) => {
      const [account, actor] = await Promise.all([lookup(e.accountId), lookup(e.actor)]);
      return {
        time: formatInstant(e.occurredAt, timeZone),
        isoTime: e.occurredAt.toISOString(),
        event: e.type,
        account: label(account, e.accountId),
        accountUserId: account?.userId ?? '',
        accountName: account?.name ?? '',
        actor: label(actor, e.actor),
        ip: e.ip ?? '',
        details: describeData(e.data, e.type),
      };
    }),
  );
}
