/**
 * The account page's SFTP request forms (issue 14 §1, §4). Each saves a change request and submits it to a
 * checker, as the other account changes do:
 * - `POST /accounts/:id/sftp/keys` (publicKey, name, expiresAt) → `register_sftp_key`;
 * - `POST /accounts/:id/sftp/keys/:keyId/remove` → `remove_sftp_key`;
 * - `POST /accounts/:id/sftp/addresses` (cidr, name) → `add_sftp_source_range`;
 * - `POST /accounts/:id/sftp/addresses/:rangeId/remove` → `remove_sftp_source_range`.
 * A refusal shows the account page again with the message next to the field (400/403/409), never a 500.
 */
import express from 'express';
import { z } from 'zod';
import type { ChangeRequestType, Identity } from '../identity/index.js';
import { loadAccountPage, renderAccountPage, type SftpRefused } from './account-detail-routes.js';
import type { AdminContext } from './options.js';
import { MALFORMED_FORM, notFound } from './render.js';
import { requestChange, submittedHref } from './submit-change.js';

/** Exactly the fields the SFTP forms show (each form uses some; the service validates their content). */
const sftpForm = z.object({
  publicKey: z.string().max(16384).optional(),
  name: z.string().max(1000).optional(),
  expiresAt: z.string().max(100).optional(),
  cidr: z.string().max(1000).optional(),
  message: z.string().max(4000).optional(),
});

/** Routes of the SFTP forms on the account page. */
export function sftpRoutes(identity: Identity): express.Router {
  const router = express.Router();

  async function handle(req: express.Request, res: express.Response, form: SftpRefused['form'], type: ChangeRequestType, payloadOf: (accountId: string, body: z.output<typeof sftpForm>) => Record<string, unknown>) {
    const admin = res.locals.admin as AdminContext;
    const found = await loadAccountPage(identity, res, String(req.params.id));
    if (!found) return notFound(res);
    const parsed = sftpForm.safeParse(req.body);
    const values = parsed.success ? { publicKey: parsed.data.publicKey ?? '', name: parsed.data.name ?? '', expiresAt: parsed.data.expiresAt ?? '', cidr: parsed.data.cidr ?? '', message: parsed.data.message ?? '' } : { publicKey: '', name: '', expiresAt: '', cidr: '', message: '' };
    const refused = (problem: SftpRefused['problem'], draftHref: string | null = null) => renderAccountPage(res, found, null, { form, values, problem, draftHref });
    if (!parsed.success) return refused(MALFORMED_FORM);
    const outcome = await requestChange(identity, admin, type, payloadOf(found.target.account.id, parsed.data), parsed.data.message);
    if (outcome.kind === 'submitted') return res.redirect(303, submittedHref(outcome.requestId));
    if (outcome.kind === 'not_found') return notFound(res);
    refused(outcome.problem, outcome.draftId ? `/requests/${encodeURIComponent(outcome.draftId)}` : null);
  }

  router.post('/accounts/:id/sftp/keys', (req, res) => handle(req, res, 'key', 'register_sftp_key', (accountId, b) => ({ accountId, publicKey: b.publicKey ?? '', name: b.name ?? '', expiresAt: b.expiresAt ?? '' })));
  router.post('/accounts/:id/sftp/keys/:keyId/remove', (req, res) => handle(req, res, 'remove', 'remove_sftp_key', (accountId) => ({ accountId, keyId: String(req.params.keyId) })));
  router.post('/accounts/:id/sftp/addresses', (req, res) => handle(req, res, 'address', 'add_sftp_source_range', (accountId, b) => ({ accountId, cidr: b.cidr ?? '', name: b.name ?? '' })));
  router.post('/accounts/:id/sftp/addresses/:rangeId/remove', (req, res) => handle(req, res, 'remove', 'remove_sftp_source_range', (accountId) => ({ accountId, rangeId: String(req.params.rangeId) })));
  return router;
}
