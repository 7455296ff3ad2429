/**
 * `GET /`: the dashboard (seed 000) — tasks needing me (to check, returned to me), my requests and the
 * organization's history, searchable by reference or text and filterable by status, request type and the
 * day of the last update (from/to, whole days in the deployment's time zone).
 */
import express from 'express';
import { z } from 'zod';
import { toFieldErrors } from '../lib/index.js';
import { CHANGE_REQUEST_STATUSES, CHANGE_REQUEST_TYPES, STATUS_LABELS, type Identity } from '../identity/index.js';
import { dayRangeSchema, instantRange } from './date-range.js';
import type { AdminContext } from './options.js';
import type { FormProblem } from './render.js';
import { requestRow, TYPE_LABELS } from './view-models.js';

/** Text, status and type ignore values the form cannot send; wrong days are field errors. */
const filterSchema = z.intersection(
  z.object({
    text: z.string().trim().max(200).optional().catch(undefined),
    status: z.enum(CHANGE_REQUEST_STATUSES).optional().catch(undefined),
    type: z.enum(CHANGE_REQUEST_TYPES).optional().catch(undefined),
  }),
  dayRangeSchema,
);

/** The dashboard's sections: heading and which list of the change request service fills it. */
const SECTIONS = [
  { id: 'to-check', heading: 'To check', view: 'to_check', empty: 'Nothing is waiting for you to check.' },
  { id: 'returned', heading: 'Returned to me', view: 'returned', empty: 'None of your requests was rejected.' },
  { id: 'mine', heading: 'My requests', view: 'mine', empty: 'You have made no request yet.' },
  { id: 'history', heading: 'History', view: 'history', empty: 'No finished request yet.' },
] as const;

const statuses = CHANGE_REQUEST_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] }));
const types = CHANGE_REQUEST_TYPES.map((value) => ({ value, label: TYPE_LABELS[value] }));
const asText = (v: unknown) => (typeof v === 'string' ? v : '');

/** Routes of the dashboard. */
export function dashboardRoutes(identity: Identity): express.Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const parsed = filterSchema.safeParse(req.query);
    const view = { title: 'Dashboard', admin, statuses, types, done: null };
    if (!parsed.success) {
      const problem: FormProblem = { status: 400, message: 'Some filters are not valid.', fieldErrors: toFieldErrors(parsed.error.issues) };
      const filter = { text: asText(req.query.text), status: asText(req.query.status), type: asText(req.query.type), from: asText(req.query.from), to: asText(req.query.to) };
      return res.status(400).render('dashboard', { ...view, sections: [], filter, problem });
    }
    const f = parsed.data;
    const query = { organizationId: admin.organization.id, text: f.text, statuses: f.status ? [f.status] : undefined, types: f.type ? [f.type] : undefined };
    const { from, before } = instantRange(f, admin.timeZone);
    const sections = await Promise.all(
      SECTIONS.map(async (s) => {
        const page = await identity.changeRequests.list(admin.actor, { ...query, from, to: before, view: s.view });
        return { ...s, total: page.total, rows: page.items.map((r) => requestRow(r, admin.timeZone)) };
      }),
    );
    const filter = { text: f.text ?? '', status: f.status ?? '', type: f.type ?? '', from: f.from ?? '', to: f.to ?? '' };
    res.render('dashboard', { ...view, sections, filter, problem: null });
  });
  return router;
}
