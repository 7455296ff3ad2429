/**
 * {@link ChangeRequestStore} on PostgreSQL. Each transition is one conditional
 * `UPDATE change_requests … WHERE id = $1 AND status IN (…) [AND version = $v] … RETURNING`, so of any number
 * of concurrent callers exactly one wins; a confirmation runs that UPDATE and the change it applies in one
 * transaction. References come from the `change_request_reference_seq` sequence.
 */
import { and, count, desc, eq, gte, ilike, inArray, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { ChangeRequest, ChangeRequestQuery, ChangeRequestStep, ChangeRequestStore, ChangeRequestView, TransitionChange, TransitionGuard } from '../identity/index.js';
import { createChangeApplier } from './change-request-applier.js';
import type { Db, Executor } from './database.js';
import { isUuid } from './postgres-errors.js';
import { accounts, changeRequests as requests, memberships, organizations, participantIds } from './schema.js';

type Row = typeof requests.$inferSelect;
const maker = alias(accounts, 'maker');
const checker = alias(accounts, 'checker');

function toRequest(row: Row): ChangeRequest {
  const steps = (row.steps as unknown as Array<Omit<ChangeRequestStep, 'at'> & { at: string }>).map((s) => ({ ...s, at: new Date(s.at) }));
  return { ...row, type: row.type as ChangeRequest['type'], status: row.status as ChangeRequest['status'], steps };
}

const viewColumns = {
  request: requests,
  makerName: maker.name,
  checkerName: checker.name,
  organizationName: organizations.name,
  participantIds: sql<string[]>`array(select ${participantIds.participantId} from ${participantIds} where ${participantIds.organizationId} = ${requests.organizationId} order by ${participantIds.position})`,
};

function selectViews(db: Db, where: SQL | undefined) {
  return db.select(viewColumns).from(requests)
    .innerJoin(maker, eq(maker.id, requests.makerId))
    .leftJoin(checker, eq(checker.id, requests.checkerId))
    .innerJoin(organizations, eq(organizations.id, requests.organizationId))
    .where(where);
}

function toView(row: { request: Row; makerName: string; checkerName: string | null; organizationName: string; participantIds: string[] }): ChangeRequestView {
  return { ...toRequest(row.request), makerName: row.makerName, checkerName: row.checkerName, organizationName: row.organizationName, participantIds: row.participantIds };
}

function guardOf(id: string, guard: TransitionGuard): SQL {
  return and(
    eq(requests.id, id),
    inArray(requests.status, [...guard.from]),
    guard.version === undefined ? undefined : eq(requests.version, guard.version),
    guard.makerId === undefined ? undefined : eq(requests.makerId, guard.makerId),
    guard.checkerId === undefined ? undefined : eq(requests.checkerId, guard.checkerId),
    guard.notMakerId === undefined ? undefined : ne(requests.makerId, guard.notMakerId),
  )!;
}

function valuesOf(change: TransitionChange) {
  const { step, assignReference, bumpVersion, ...columns } = change;
  const stepJson = JSON.stringify([{ ...step, at: step.at.toISOString() }]);
  return {
    ...columns,
    updatedAt: step.at,
    steps: sql`${requests.steps} || ${stepJson}::jsonb`,
    ...(bumpVersion ? { version: sql`${requests.version} + 1` } : {}),
    ...(assignReference ? { reference: sql`coalesce(${requests.reference}, (select 'UM_' || lpad(n::text, greatest(8, length(n::text)), '0') from nextval('change_request_reference_seq') as n))` } : {}),
  };
}

async function runTransition(tx: Executor, id: string, guard: TransitionGuard, change: TransitionChange): Promise<ChangeRequest | null> {
  if (!isUuid(id)) return null;
  const [row] = await tx.update(requests).set(valuesOf(change)).where(guardOf(id, guard)).returning();
  return row ? toRequest(row) : null;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function conditionsOf(q: ChangeRequestQuery): SQL | undefined {
  const text = q.text ? `%${escapeLike(q.text)}%` : undefined;
  return and(
    q.organizationIds ? inArray(requests.organizationId, q.organizationIds.filter(isUuid).concat('00000000-0000-0000-0000-000000000000')) : undefined,
    q.makerId ? eq(requests.makerId, q.makerId) : undefined,
    q.statuses ? inArray(requests.status, [...q.statuses, '']) : undefined,
    q.types ? inArray(requests.type, [...q.types, '']) : undefined,
    text ? or(ilike(requests.reference, text), ilike(requests.title, text)) : undefined,
    q.updatedFrom ? gte(requests.updatedAt, q.updatedFrom) : undefined,
    q.updatedBefore ? lt(requests.updatedAt, q.updatedBefore) : undefined,
    q.checkableBy ? or(and(eq(requests.status, 'ready_for_checker'), ne(requests.makerId, q.checkableBy)), and(eq(requests.status, 'claimed'), eq(requests.checkerId, q.checkableBy))) : undefined,
    q.viewerId ? or(ne(requests.status, 'draft'), eq(requests.makerId, q.viewerId)) : undefined,
  );
}

/** Creates the store over `db`. */
export function createChangeRequestStore(db: Db): ChangeRequestStore {
  return {
    async create(request) {
      await db.insert(requests).values({ ...request, steps: request.steps.map((s) => ({ ...s, at: s.at.toISOString() })) });
    },

    async findById(id) {
      if (!isUuid(id)) return null;
      const [row] = await selectViews(db, eq(requests.id, id));
      return row ? toView(row) : null;
    },

    transition: (id, guard, change) => runTransition(db, id, guard, change),

    async transitionAndApply(id, guard, change, apply) {
      return db.transaction(async (tx) => {
        const request = await runTransition(tx, id, guard, change);
        if (!request) return null;
        return { request, applied: await apply(createChangeApplier(tx), request) };
      });
    },

    applyDirectly: (apply) => db.transaction((tx) => apply(createChangeApplier(tx))),

    async list(query) {
      const where = conditionsOf(query);
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
      const rows = await selectViews(db, where).orderBy(desc(requests.updatedAt), desc(requests.id)).limit(limit).offset(Math.max(query.offset ?? 0, 0));
      const [total] = await db.select({ n: count() }).from(requests).where(where);
      return { items: rows.map(toView), total: total?.n ?? 0 };
    },

    async delegatedAdministrators(organizationId) {
      if (!isUuid(organizationId)) return [];
      const rows = await db.select({ account: accounts }).from(accounts)
        .innerJoin(memberships, and(eq(memberships.accountId, accounts.id), eq(memberships.organizationId, organizationId), eq(memberships.delegatedAdministrator, true)))
        .orderBy(accounts.name);
      return rows.map((r) => r.account);
    },
  };
}
