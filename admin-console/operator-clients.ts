/**
 * `/operator/applications`: downstream applications (OIDC clients). Lists them and registers one with its
 * client ID, name, redirect URIs, post-logout redirect URIs and the back-channel logout URI; the generated
 * secret is shown once. The
 * registry validates the URIs (https, or http on a loopback host; no wildcard, fragment, `javascript:` or
 * `data:`) and answers field errors; nothing is stored then.
 */
import express from 'express';
import { z } from 'zod';
import type { Identity } from '../identity/index.js';
import { systemClock } from '../lib/index.js';
import { entriesOf, operatorOf, renderOperator } from './operator-forms.js';
import { attempt, isProblem, MALFORMED_FORM, type FormProblem } from './render.js';

/** A registered client as the list shows it (no secret). */
export interface RegisteredClient {
  clientId: string;
  clientName: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** The operator's own application: consent is implied. */
  firstParty: boolean;
  createdAt: Date;
}

/**
 * The client registry the console needs (storage's `ClientStore` fits it). `create` validates and throws
 * DomainError `validation_failed` (fieldErrors clientId, redirectUris, postLogoutRedirectUris, backchannelLogoutUri) or `conflict`
 * (client ID taken), and returns the generated secret.
 */
export interface ClientRegistry {
  create(client: { clientId: string; clientName?: string | undefined; redirectUris: string[]; postLogoutRedirectUris: string[]; backchannelLogoutUri?: string | undefined; firstParty: boolean }): Promise<{ clientId: string; clientSecret: string }>;
  list(): Promise<RegisteredClient[]>;
}

/** Exactly the fields the form shows; URIs one per line. */
const registerForm = z.object({
  clientId: z.string().max(200).default(''),
  clientName: z.string().max(200).default(''),
  redirectUris: z.string().max(4000).default(''),
  postLogoutRedirectUris: z.string().max(4000).default(''),
  backchannelLogoutUri: z.string().max(2000).default(''),
  /** The checkbox: present (any value) for a third-party application. */
  thirdParty: z.string().max(10).optional().transform((v) => v !== undefined),
});
type RegisterForm = z.output<typeof registerForm>;
const EMPTY: RegisterForm = { clientId: '', clientName: '', redirectUris: '', postLogoutRedirectUris: '', backchannelLogoutUri: '', thirdParty: false };

async function renderList(clients: ClientRegistry, res: express.Response, values: RegisterForm, problem: FormProblem | null): Promise<void> {
  const rows = (await clients.list()).map((c) => ({ clientId: c.clientId, name: c.clientName ?? '—', firstParty: c.firstParty, redirectUris: c.redirectUris, postLogoutRedirectUris: c.postLogoutRedirectUris }));
  renderOperator(res, 'operator-applications', { title: 'Downstream applications', rows, values }, problem);
}

/** Routes of the application screens (mounted under `/operator`). */
export function operatorClientRoutes(identity: Identity, clients: ClientRegistry): express.Router {
  const router = express.Router();
  router.get('/applications', (_req, res) => renderList(clients, res, EMPTY, null));
  router.post('/applications', async (req, res) => {
    const form = registerForm.safeParse(req.body);
    if (!form.success) return renderList(clients, res, EMPTY, MALFORMED_FORM);
    const { clientId, clientName, redirectUris, postLogoutRedirectUris, backchannelLogoutUri, thirdParty } = form.data;
    const client = {
      clientId: clientId.trim(), clientName: clientName.trim() || undefined, redirectUris: entriesOf(redirectUris, /\r?\n/),
      postLogoutRedirectUris: entriesOf(postLogoutRedirectUris, /\r?\n/), backchannelLogoutUri: backchannelLogoutUri.trim() || undefined, firstParty: !thirdParty,
    };
    const created = await attempt(() => clients.create(client));
    if (isProblem(created)) return renderList(clients, res, form.data, created);
    const operator = operatorOf(res);
    await identity.events.publish({ type: 'client.created', actor: operator.actor, ip: operator.ip, data: { clientId: created.clientId, redirectUris: client.redirectUris, firstParty: client.firstParty } }, systemClock.now());
    res.status(201).render('operator-application-created', { title: 'Application registered', clientId: created.clientId, clientSecret: created.clientSecret });
  });
  return router;
}
