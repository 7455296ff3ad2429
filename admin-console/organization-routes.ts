/**
 * `GET /organization` and `POST /organization`: a DA of several organizations picks the one to administer.
 * The choice must be one of their organizations; it is kept in a cookie the gate re-checks on every request.
 */
import express from 'express';
import { z } from 'zod';
import type { Organization } from '../identity/index.js';
import type { PortalSession } from '../portal-adapters/index.js';
import { ORGANIZATION_COOKIE } from './gate.js';
import { notFound } from './render.js';

const choiceSchema = z.object({ organizationId: z.string().max(64) });

/** Routes of the organization picker. `secure`: mark the cookie Secure (https console); `cookiePath`: the console's path (`/` at the root). */
export function organizationRoutes(secure: boolean, cookiePath = '/'): express.Router {
  const router = express.Router();
  router.get('/organization', (_req, res) => {
    const organizations = res.locals.organizations as Organization[];
    // An operator who administers no organization has nothing to pick: their console is the operator screens.
    if (organizations.length === 0) return res.redirect(303, '/operator');
    res.render('organization', { title: 'Choose an organization', session: res.locals.session as PortalSession, organizations });
  });
  router.post('/organization', (req, res) => {
    const organizations = res.locals.organizations as Organization[];
    const parsed = choiceSchema.safeParse(req.body);
    const chosen = parsed.success ? organizations.find((o) => o.id === parsed.data.organizationId) : undefined;
    if (!chosen) return notFound(res);
    res.cookie(ORGANIZATION_COOKIE, chosen.id, { httpOnly: true, sameSite: 'lax', secure, path: cookiePath });
    res.redirect(303, '/');
  });
  return router;
}
