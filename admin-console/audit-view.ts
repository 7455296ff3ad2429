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

/** `key: value` pairs of the event's data, in stored order; objects as JSON, nulls left out. */
export function describeData(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
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
        details: describeData(e.data),
      };
    }),
  );
}
