/**
 * {@link AuditStore} on PostgreSQL: append-only `audit_events`, listed newest first.
 */
import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { AuditStore } from '../identity/index.js';
import type { Db } from './database.js';
import { isUuid } from './postgres-errors.js';
import { auditEvents } from './schema.js';

/** Events returned by `list` when the query gives no limit. */
export const AUDIT_LIST_DEFAULT_LIMIT = 100;
/** The most events one `list` call returns, whatever limit it asks for. */
export const AUDIT_LIST_MAX_LIMIT = 1000;

/** Creates the audit store over `db`. */
export function createAuditStore(db: Db): AuditStore {
  return {
    async append(event) {
      await db.insert(auditEvents).values(event);
    },

    async list(query) {
      if ((query.accountId && !isUuid(query.accountId)) || (query.organizationId && !isUuid(query.organizationId))) return [];
      const conditions: SQL[] = [];
      if (query.accountId) conditions.push(eq(auditEvents.accountId, query.accountId));
      if (query.organizationId) conditions.push(eq(auditEvents.organizationId, query.organizationId));
      if (query.type) conditions.push(eq(auditEvents.type, query.type));
      const limit = Math.min(Math.max(query.limit ?? AUDIT_LIST_DEFAULT_LIMIT, 1), AUDIT_LIST_MAX_LIMIT);
      return db
        .select()
        .from(auditEvents)
        .where(and(...conditions))
        .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
        .limit(limit);
    },
  };
}
