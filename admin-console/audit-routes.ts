/**
 * The audit log: `GET <path>` (a page of events, newest first, 50 a page) and `GET <path>.csv` (the same
 * filtered events as a CSV download, UTF-8 with a byte order mark so spreadsheets read non-ASCII names).
 * Filters: event type, account (user ID or email), days from/to read in the deployment's time zone. Which
 * events are visible is the mount's {@link AuditScope}: a delegated administrator's organization
 * ({@link organizationAuditScope}) or, for the operator, every organization.
 */
import express, { type Response } from 'express';
import { z } from 'zod';
import { toFieldErrors } from '../lib/index.js';
import { EVENT_TYPES, type AuditQuery, type Identity } from '../identity/index.js';
import { AUDIT_CSV_HEADER, auditCsvRecord, auditRows, createAccountLookup } from './audit-view.js';
import { csvRecord } from './csv.js';
import { dayRangeSchema, instantRange } from './date-range.js';
import type { AdminContext } from './options.js';
import type { FormProblem } from './render.js';

/** Events on one page of the audit log. */
export const AUDIT_PAGE_SIZE = 50;
/** The most events one CSV download holds (newest first); narrow the filters for older ones. */
export const AUDIT_CSV_MAX_ROWS = 10_000;
const CSV_BATCH = 1000;

/** Which events a mount of the audit log shows, and how. */
export interface AuditScope {
  /** Events visible to this organization (`AuditQuery.visibleToOrganizationId`); null: every event (operator). */
  organizationId: string | null;
  /** IANA time zone of the times shown and of the from/to days. */
  timeZone: string;
  /** The sentence under the heading, e.g. "Events of Test Securities Limited and its accounts." */
  description: string;
  /** Name used in the CSV file name (letters, digits, dashes), e.g. `all` or the organization's. */
  fileLabel: string;
  /** Extra locals for the page (e.g. what the operator's navigation needs); default `admin` and `session` of `res.locals`. */
  locals?: Record<string, unknown>;
}

/** Options of {@link auditRoutes}. */
export interface AuditRouteOptions {
  /** Where the page lives in its router (default `/audit`); the CSV is at `<path>.csv`. Links add the mount point (`req.baseUrl`). */
  path?: string;
  /** The scope of the request; runs after the console's gate, so `res.locals` is set. */
  scope(res: Response): AuditScope;
}

/** The delegated administrator's scope: their chosen organization (`res.locals.admin`). */
export function organizationAuditScope(res: Response): AuditScope {
  const admin = res.locals.admin as AdminContext;
  const fileLabel = admin.organization.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'organization';
  return { organizationId: admin.organization.id, timeZone: admin.timeZone, description: `Events of ${admin.organization.name} and of its accounts.`, fileLabel };
}

const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as [keyof typeof EVENT_TYPES, ...(keyof typeof EVENT_TYPES)[]];
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** Exactly the filters the form shows. */
const filterSchema = z.intersection(
  z.object({
    type: z.preprocess(blankToUndefined, z.enum(EVENT_TYPE_NAMES, 'Choose an event type from the list.').optional()),
    account: z.preprocess(blankToUndefined, z.string().trim().max(200, 'A user ID has at most 200 characters.').optional()),
    page: z.preprocess(blankToUndefined, z.coerce.number('Enter a page number.').int().min(1).max(100_000).default(1)),
  }),
  dayRangeSchema,
);
type AuditFilter = z.output<typeof filterSchema>;

/** The store query of `filter` in `scope`, or null when the account filter names no account (nothing matches). */
async function storeQuery(identity: Identity, filter: AuditFilter, scope: AuditScope): Promise<AuditQuery | null> {
  const query: AuditQuery = { type: filter.type, ...instantRange(filter, scope.timeZone) };
  if (scope.organizationId) query.visibleToOrganizationId = scope.organizationId;
  if (filter.account) {
    const account = await identity.stores.accounts.findByLogin(filter.account);
    if (!account) return null;
    query.accountId = account.id;
  }
  return query;
}

/** The filters as query-string pairs (for paging and the CSV link). */
function filterParams(filter: Partial<AuditFilter>, page?: number): string {
  const params = new URLSearchParams();
  for (const key of ['type', 'account', 'from', 'to'] as const) if (filter[key]) params.set(key, filter[key]);
  if (page && page > 1) params.set('page', String(page));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Routes of the audit log, scoped by `options.scope` (see {@link AuditScope}). */
export function auditRoutes(identity: Identity, options: AuditRouteOptions = { scope: organizationAuditScope }): express.Router {
  const path = options.path ?? '/audit';
  const router = express.Router();
  const eventTypes = EVENT_TYPE_NAMES.map((value) => ({ value, description: EVENT_TYPES[value] }));

  router.get(path, async (req, res) => {
    const scope = options.scope(res);
    const parsed = filterSchema.safeParse(req.query);
    const values = { type: String(req.query.type ?? ''), account: String(req.query.account ?? ''), from: String(req.query.from ?? ''), to: String(req.query.to ?? '') };
    const base = req.baseUrl + path;
    const view = { title: 'Audit log', admin: res.locals.admin, session: res.locals.session, ...scope.locals, path: base, scope, eventTypes, values };
    if (!parsed.success) {
      const problem: FormProblem = { status: 400, message: 'Some filters are not valid.', fieldErrors: toFieldErrors(parsed.error.issues) };
      return res.status(400).render('audit', { ...view, problem, rows: [], pages: null, csvHref: null });
    }
    const filter = parsed.data;
    const query = await storeQuery(identity, filter, scope);
    const events = query ? await identity.stores.audit.list({ ...query, limit: AUDIT_PAGE_SIZE + 1, offset: (filter.page - 1) * AUDIT_PAGE_SIZE }) : [];
    const rows = await auditRows(events.slice(0, AUDIT_PAGE_SIZE), scope.timeZone, createAccountLookup(identity));
    const pages = {
      current: filter.page,
      previous: filter.page > 1 ? `${base}${filterParams(filter, filter.page - 1)}` : null,
      next: events.length > AUDIT_PAGE_SIZE ? `${base}${filterParams(filter, filter.page + 1)}` : null,
    };
    res.render('audit', { ...view, problem: null, rows, pages, csvHref: `${base}.csv${filterParams(filter)}` });
  });

  router.get(`${path}.csv`, async (req, res) => {
    const scope = options.scope(res);
    const parsed = filterSchema.safeParse(req.query);
    if (!parsed.success) {
      const fieldErrors = toFieldErrors(parsed.error.issues);
      return res.status(400).type('text/plain').send(`Some filters are not valid: ${Object.values(fieldErrors).flat().join(' ')}\n`);
    }
    const query = await storeQuery(identity, parsed.data, scope);
    const lookup = createAccountLookup(identity);
    const records = [`\uFEFF${csvRecord(AUDIT_CSV_HEADER)}`];
    for (let offset = 0; query && offset < AUDIT_CSV_MAX_ROWS; offset += CSV_BATCH) {
      const events = await identity.stores.audit.list({ ...query, limit: CSV_BATCH, offset });
      for (const row of await auditRows(events, scope.timeZone, lookup)) records.push(csvRecord(auditCsvRecord(row)));
      if (events.length < CSV_BATCH) break;
    }
    res.type('text/csv; charset=utf-8').attachment(`audit-${scope.fileLabel}.csv`).send(records.join(''));
  });
  return router;
}
