/**
 * {@link AuditStore} on PostgreSQL: append-only `audit_events`, listed newest first.
 */
import { and, desc, eq, gte, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { AuditEvent, AuditQuery, AuditStore } from '../identity/index.js';
import type { Db, Executor } from './database.js';
import { isUuid } from './postgres-errors.js';
import { auditEvents, memberships } from './schema.js';

/** Events returned by `list` when the query gives no limit. */
export const AUDIT_LIST_DEFAULT_LIMIT = 100;
/** The most events one `list` call returns, whatever limit it asks for. */
export const AUDIT_LIST_MAX_LIMIT = 1000;

/** Events of `organizationId`, or organization-less events about its current members. */
function visibleTo(db: Db, organizationId: string): SQL | undefined {
  const members = db.select({ accountId: memberships.accountId }).from(memberships).where(eq(memberships.organizationId, organizationId));
  return or(eq(auditEvents.organizationId, organizationId), and(isNull(auditEvents.organizationId), inArray(auditEvents.accountId, members)));
}

function conditions(db: Db, query: AuditQuery): SQL[] {
  const where: (SQL | undefined)[] = [];
  if (query.accountId) where.push(eq(auditEvents.accountId, query.accountId));
  if (query.organizationId) where.push(eq(auditEvents.organizationId, query.organizationId));
  if (query.visibleToOrganizationId) where.push(visibleTo(db, query.visibleToOrganizationId));
  if (query.type) where.push(eq(auditEvents.type, query.type));
  if (query.from) where.push(gte(auditEvents.occurredAt, query.from));
  if (query.before) where.push(lt(auditEvents.occurredAt, query.before));
  return where.filter((c): c is SQL => c !== undefined);
}

/** Appends `events` through `executor` (the pool, or a transaction whose change they describe). */
export async function appendAuditEventsOn(executor: Executor, events: AuditEvent[]): Promise<void> {
  if (events.length > 0) await executor.insert(auditEvents).values(events);
}

/**
 * `INSERT INTO audit_events … SELECT … WHERE when` of `event`: the body of a CTE in the statement that makes the
 * change the event describes (`when`: SQL that is true when the change happened, e.g. `exists (select 1 from cte)`),
 * so the event is recorded in that change's own round trip. Publish it with `publishRecorded` afterwards.
 */
export function auditInsertWhen(event: AuditEvent, when: SQL = sql`true`): SQL {
  return sql`insert into ${auditEvents} (id, type, occurred_at, account_id, organization_id, actor, ip, data)
    select ${event.id}::uuid, ${event.type}, ${event.occurredAt.toISOString()}::timestamptz, ${event.accountId}::uuid, ${event.organizationId}::uuid, ${event.actor}, ${event.ip}, ${JSON.stringify(event.data)}::jsonb
    where ${when}`;
}

/** Creates the audit store over `db`. */
export function createAuditStore(db: Db): AuditStore {
  return {
    append: (event) => appendAuditEventsOn(db, [event]),

    async list(query) {
      const ids = [query.accountId, query.organizationId, query.visibleToOrganizationId];
      if (ids.some((id) => id !== undefined && id !== '' && !isUuid(id))) return [];
      const limit = Math.min(Math.max(query.limit ?? AUDIT_LIST_DEFAULT_LIMIT, 1), AUDIT_LIST_MAX_LIMIT);
      return db
        .select()
        .from(auditEvents)
        .where(and(...conditions(db, query)))
        .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
        .limit(limit)
        .offset(Math.max(query.offset ?? 0, 0));
    },
  };
}
