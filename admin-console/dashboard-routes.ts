/**
 * `GET /`: the dashboard (seed 000) — tasks needing me (to check, returned to me), my requests and the
 * organization's history, searchable by reference or text and filterable by status.
 */
import express from 'express';
import { z } from 'zod';
import { CHANGE_REQUEST_STATUSES, STATUS_LABELS, type Identity } from '../identity/index.js';
import type { AdminContext } from './options.js';
import { requestRow } from './view-models.js';

const filterSchema = z.object({
  text: z.string().trim().max(200).optional().catch(undefined),
  status: z.enum(CHANGE_REQUEST_STATUSES).optional().catch(undefined),
});

/** The dashboard's sections: heading and which list of the change request service fills it. */
const SECTIONS = [
  { id: 'to-check', heading: 'To check', view: 'to_check', empty: 'Nothing is waiting for you to check.' },
  { id: 'returned', heading: 'Returned to me', view: 'returned', empty: 'None of your requests was rejected.' },
  { id: 'mine', heading: 'My requests', view: 'mine', empty: 'You have made no request yet.' },
  { id: 'history', heading: 'History', view: 'history', empty: 'No finished request yet.' },
] as const;

/** Routes of the dashboard. */
export function dashboardRoutes(identity: Identity): express.Router {
  const router = express.Router();
  router.get('/', async (req, res) => {
    const admin = res.locals.admin as AdminContext;
    const filter = filterSchema.parse(req.query);
    const query = { organizationId: admin.organization.id, text: filter.text, statuses: filter.status ? [filter.status] : undefined };
    const sections = await Promise.all(
      SECTIONS.map(async (s) => {
        const page = await identity.changeRequests.list(admin.actor, { ...query, view: s.view });
        return { ...s, total: page.total, rows: page.items.map((r) => requestRow(r, admin.timeZone)) };
      }),
    );
    const statuses = CHANGE_REQUEST_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] }));
    res.render('dashboard', { title: 'Dashboard', admin, sections, filter: { text: filter.text ?? '', status: filter.status ?? '' }, statuses, done: null });
  });
  return router;
}
