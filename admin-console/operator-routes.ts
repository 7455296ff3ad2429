/**
 * `/operator/…`: the operator's screens — organizations and their participant IDs, delegated administrators,
 * requests `Sent to operator`, downstream applications (OIDC clients), re-registration campaigns, undelivered mail and the audit
 * log of every organization. Only
 * operators get in ({@link requireOperator}); everyone else gets 404, for every path under `/operator`.
 */
import express from 'express';
import type { Identity } from '../identity/index.js';
import { auditRoutes } from './audit-routes.js';
import { requireOperator } from './gate.js';
import { operatorCampaignRoutes } from './operator-campaigns.js';
import { operatorClientRoutes, type ClientRegistry } from './operator-clients.js';
import { operatorMailRoutes } from './operator-mail.js';
import { operatorOrganizationRoutes } from './operator-organizations.js';
import { operatorRequestRoutes } from './operator-requests.js';
import { notFound } from './render.js';

/** What the operator screens need besides the identity services. */
export interface OperatorRouteOptions {
  /** Registered OIDC clients; without it `/operator/applications` answers 404. */
  clients?: ClientRegistry | undefined;
  /** IANA time zone of times on screen. */
  timeZone: string;
}

/** The router mounted at `/operator` (after the gate). */
export function operatorRoutes(identity: Identity, options: OperatorRouteOptions): express.Router {
  const router = express.Router();
  router.use(requireOperator());
  router.get('/', (_req, res) => res.redirect(303, '/operator/requests'));
  router.use(operatorOrganizationRoutes(identity, options.timeZone), operatorRequestRoutes(identity, options.timeZone), operatorCampaignRoutes(identity, options.timeZone), operatorMailRoutes(identity, options.timeZone));
  if (options.clients) router.use(operatorClientRoutes(identity, options.clients));
  // The operator sees every event of every organization (design/domain.md): `/operator/audit` and `/operator/audit.csv`.
  router.use(auditRoutes(identity, { scope: () => ({ organizationId: null, timeZone: options.timeZone, description: 'Every event of every organization.', fileLabel: 'all' }) }));
  router.use((_req, res) => notFound(res));
  return router;
}
