/**
 * `/operator/campaigns`: authenticator re-registration campaigns with their progress (affected,
 * re-registered, skipped); create one (registration cutoff, effective date, optional skip deadline, as
 * ISO 8601 times with their offset) and close an open one. Calls the identity campaign service.
 */
import express from 'express';
import { z } from 'zod';
import { formatInstant, type Identity } from '../identity/index.js';
import { operatorOf, renderOperator } from './operator-forms.js';
import { attempt, isProblem, MALFORMED_FORM, isNotFound, notFound, type FormProblem } from './render.js';

/** Exactly the fields the form shows. */
const createForm = z.object({ registeredBefore: z.string().max(100).default(''), effectiveFrom: z.string().max(100).default(''), skipUntil: z.string().max(100).default('') });
type CreateForm = z.output<typeof createForm>;
const EMPTY: CreateForm = { registeredBefore: '', effectiveFrom: '', skipUntil: '' };
const DONE = { created: 'Campaign created.', closed: 'Campaign closed: it asks nobody any more.' } as const;

async function renderList(identity: Identity, res: express.Response, timeZone: string, values: CreateForm, done: string | null, problem: FormProblem | null): Promise<void> {
  const when = (d: Date | null) => (d ? formatInstant(d, timeZone) : '—');
  const rows = (await identity.campaigns.listCampaigns()).map((c) => ({
    id: c.id,
    registeredBefore: when(c.registeredBefore),
    effectiveFrom: when(c.effectiveFrom),
    skipUntil: c.skipUntil ? when(c.skipUntil) : 'No deadline',
    status: c.closedAt ? `Closed ${when(c.closedAt)}` : 'Open',
    open: c.closedAt === null,
    progress: `${c.progress.reRegistered} of ${c.progress.affected} re-registered, ${c.progress.skipped} skipping`,
  }));
  renderOperator(res, 'operator-campaigns', { title: 'Re-registration campaigns', rows, values, done, timeZone }, problem);
}

/** Routes of the campaign screens (mounted under `/operator`). */
export function operatorCampaignRoutes(identity: Identity, timeZone: string): express.Router {
  const router = express.Router();
  router.get('/campaigns', async (req, res) => {
    const done = z.enum(['created', 'closed']).safeParse(req.query.done);
    await renderList(identity, res, timeZone, EMPTY, done.success ? DONE[done.data] : null, null);
  });
  router.post('/campaigns', async (req, res) => {
    const form = createForm.safeParse(req.body);
    if (!form.success) return renderList(identity, res, timeZone, EMPTY, null, MALFORMED_FORM);
    const { registeredBefore, effectiveFrom, skipUntil } = form.data;
    const input = { registeredBefore: registeredBefore.trim(), effectiveFrom: effectiveFrom.trim(), skipUntil: skipUntil.trim() || undefined };
    const created = await attempt(() => identity.campaigns.createCampaign(input, operatorOf(res).actor));
    if (isProblem(created)) return renderList(identity, res, timeZone, form.data, null, created);
    res.redirect(303, '/operator/campaigns?done=created');
  });
  router.post('/campaigns/:id/close', async (req, res) => {
    try {
      const closed = await attempt(() => identity.campaigns.closeCampaign(req.params.id, operatorOf(res).actor));
      if (isProblem(closed)) return renderList(identity, res, timeZone, EMPTY, null, closed);
    } catch (error) {
      if (isNotFound(error)) return notFound(res);
      throw error;
    }
    res.redirect(303, '/operator/campaigns?done=closed');
  });
  return router;
}
