/**
 * `/operator/applications`: downstream applications (OIDC clients). Lists them with how each authenticates, and
 * registers one with its client ID, name, redirect URIs, post-logout redirect URIs, the back-channel logout URI
 * and its client authentication (OIDC Registration §2 `token_endpoint_auth_method`): a secret in the Authorization
 * header (default) or the form body, a signed JWT with public keys (`private_key_jwt`, RFC 7523: a JWK Set or a
 * `jwks_uri`), or none (a public single-page or native app with PKCE, optionally allowed DPoP-bound refresh
 * tokens). A generated secret is shown once, and only to clients that use it. The
 * registry validates the URIs (https, or http on a loopback host; no wildcard, fragment, `javascript:` or
 * `data:`) and answers field errors; nothing is stored then. A second form registers a service client
 * (`client_credentials`, RFC 6749 §4.4) for an organization and a set of functions from the catalogue.
 * Either may name the resources (RFC 8707) the client is the resource server of, for introspection.
 */
import express from 'express';
import { z } from 'zod';
import type { Identity } from '../identity/index.js';
import { DomainError, systemClock } from '../lib/index.js';
import { FUNCTION_NAMES, isFunctionName } from '../policies/index.js';
import { entriesOf, operatorOf, renderOperator } from './operator-forms.js';
import { attempt, isProblem, MALFORMED_FORM, type FormProblem } from './render.js';

/** How a client authenticates at the token endpoint (as storage's client store knows them; the console does not import storage). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** A JWK Set (RFC 7517 §5) as the operator pasted it; the registry checks it holds public signing keys only. */
export interface PublicJwks {
  keys: Record<string, unknown>[];
}

/** The authentication fields of a registration: `jwks` or `jwksUri` only for `private_key_jwt`, `allowRefresh` only for `none`. */
export interface ClientAuthentication {
  tokenEndpointAuthMethod?: ClientAuthMethod | undefined;
  jwks?: PublicJwks | undefined;
  jwksUri?: string | undefined;
  allowRefresh?: boolean | undefined;
}

/** A registered client as the list shows it (no secret). */
export interface RegisteredClient {
  clientId: string;
  clientName: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** The operator's own application: consent is implied. */
  firstParty: boolean;
  /** A service client's organization (id) and functions; null for a client that signs people in. */
  service: { organizationId: string; functions: string[] } | null;
  servedResources: string[];
  /** How it authenticates at the token endpoint. */
  tokenEndpointAuthMethod: ClientAuthMethod;
  /** A public client allowed DPoP-bound refresh tokens. */
  allowRefresh: boolean;
  createdAt: Date;
}

/**
 * The client registry the console needs (storage's `ClientStore` fits it). `create` validates and throws
 * DomainError `validation_failed` (fieldErrors clientId, redirectUris, postLogoutRedirectUris, backchannelLogoutUri,
 * tokenEndpointAuthMethod, jwks, jwksUri, allowRefresh) or `conflict` (client ID taken), and returns the
 * generated secret (null for `none` and `private_key_jwt` clients, which hold none) and the method.
 */
export interface ClientRegistry {
  create(client: {
    clientId: string; clientName?: string | undefined; redirectUris: string[]; postLogoutRedirectUris: string[]; backchannelLogoutUri?: string | undefined; firstParty: boolean;
    service?: { organizationId: string; functions: string[] } | undefined; servedResources?: string[] | undefined;
  } & ClientAuthentication): Promise<{ clientId: string; clientSecret: string | null; tokenEndpointAuthMethod: ClientAuthMethod }>;
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
  servedResources: z.string().max(4000).default(''),
  /** The radio group; the registry refuses a value it does not know. */
  tokenEndpointAuthMethod: z.string().max(40).default('client_secret_basic'),
  /** A JWK Set as JSON text, for `private_key_jwt`. */
  jwks: z.string().max(20000).default(''),
  jwksUri: z.string().max(2000).default(''),
  /** The checkbox, for a public client. */
  allowRefresh: z.string().max(10).optional().transform((v) => v !== undefined),
});
type RegisterForm = z.output<typeof registerForm>;
const EMPTY: RegisterForm = {
  clientId: '', clientName: '', redirectUris: '', postLogoutRedirectUris: '', backchannelLogoutUri: '', thirdParty: false, servedResources: '',
  tokenEndpointAuthMethod: 'client_secret_basic', jwks: '', jwksUri: '', allowRefresh: false,
};

/** How the list and the form name each method, for a person. */
const METHOD_LABELS: Record<ClientAuthMethod, string> = {
  client_secret_basic: 'Client secret in the Authorization header',
  client_secret_post: 'Client secret in the form body',
  private_key_jwt: 'Signed JWT with public keys',
  none: 'No secret: public app (PKCE)',
};

/** Field errors for the registry's answers on authentication, worded for the form (the CLI's name its options). */
const AUTH_MESSAGES: Record<string, string> = {
  tokenEndpointAuthMethod: 'Choose how the application authenticates at the token endpoint.',
  allowRefresh: 'Refresh tokens need to be allowed only for a public app (no secret): other applications get them anyway.',
  notJson: 'This is not JSON: paste the application\'s public keys as a JWK Set, {"keys": [ … ]}.',
};

/** A value the registry always refuses as `jwks`, standing for text that is not JSON (so nothing is saved). */
const NOT_JSON = {} as PublicJwks;

/** The registry's authentication fields for the form: the JWK Set text parsed, empty fields left out. */
function authenticationOf(form: RegisterForm): ClientAuthentication {
  const text = form.jwks.trim();
  let jwks: PublicJwks | undefined;
  try {
    jwks = text ? (JSON.parse(text) as PublicJwks) : undefined;
  } catch {
    jwks = NOT_JSON;
  }
  return { tokenEndpointAuthMethod: form.tokenEndpointAuthMethod as ClientAuthMethod, jwks, jwksUri: form.jwksUri.trim() || undefined, allowRefresh: form.allowRefresh };
}

/** `problem` with the authentication field errors worded for the form. */
function wordedForForm(problem: FormProblem, jwks: PublicJwks | undefined): FormProblem {
  const fieldErrors = { ...problem.fieldErrors };
  if (fieldErrors.tokenEndpointAuthMethod) fieldErrors.tokenEndpointAuthMethod = [AUTH_MESSAGES.tokenEndpointAuthMethod!];
  if (fieldErrors.allowRefresh) fieldErrors.allowRefresh = [AUTH_MESSAGES.allowRefresh!];
  if (jwks === NOT_JSON) fieldErrors.jwks = [AUTH_MESSAGES.notJson!];
  return { ...problem, fieldErrors };
}

/** The service client form; functions one per line (or separated by commas). */
const serviceForm = z.object({
  clientId: z.string().max(200).default(''),
  clientName: z.string().max(200).default(''),
  organization: z.string().max(200).default(''),
  functions: z.string().max(4000).default(''),
  servedResources: z.string().max(4000).default(''),
});
type ServiceForm = z.output<typeof serviceForm>;
const EMPTY_SERVICE: ServiceForm = { clientId: '', clientName: '', organization: '', functions: '', servedResources: '' };

async function renderList(identity: Identity, clients: ClientRegistry, res: express.Response, forms: { values?: RegisterForm; service?: ServiceForm }, problem: FormProblem | null): Promise<void> {
  const names = new Map((await identity.organizations.listOrganizations()).map((o) => [o.id, o.name]));
  const rows = (await clients.list()).map((c) => ({
    clientId: c.clientId, name: c.clientName ?? '—', firstParty: c.firstParty, method: c.tokenEndpointAuthMethod, methodLabel: METHOD_LABELS[c.tokenEndpointAuthMethod] ?? c.tokenEndpointAuthMethod, allowRefresh: c.allowRefresh, redirectUris: c.redirectUris, postLogoutRedirectUris: c.postLogoutRedirectUris,
    service: c.service ? { organization: names.get(c.service.organizationId) ?? c.service.organizationId, functions: c.service.functions } : null,
  }));
  // Each form shows its own field errors; the problem summary above both names the one that failed.
  const model = {
    title: 'Downstream applications', rows, methodLabels: METHOD_LABELS, values: forms.values ?? EMPTY, service: forms.service ?? EMPTY_SERVICE, functionNames: FUNCTION_NAMES,
    applicationProblem: forms.service ? null : problem, serviceProblem: forms.service ? problem : null,
  };
  renderOperator(res, 'operator-applications', model, problem);
}

/** The organization and functions of a service form. @throws DomainError `validation_failed` with field errors. */
async function serviceGrantOf(identity: Identity, form: ServiceForm): Promise<{ organizationId: string; functions: string[] }> {
  const functions = entriesOf(form.functions, /[\r\n,]+/);
  const unknown = functions.filter((f) => !isFunctionName(f));
  const fieldErrors: Record<string, string[]> = {};
  if (unknown.length) fieldErrors.functions = [`Unknown function ${unknown.join(', ')}. Known: ${FUNCTION_NAMES.join(', ')}.`];
  const organization = form.organization.trim() ? await identity.organizations.getOrganization(form.organization).catch(() => null) : null;
  if (!organization) fieldErrors.organization = ['Give the organization by its name, id or a participant ID.'];
  if (Object.keys(fieldErrors).length) throw new DomainError('validation_failed', 'The service client is not valid.', { fieldErrors });
  return { organizationId: organization!.id, functions };
}

/** The secret to show once: only a client that authenticates with it has one (the registry stores none for the others). */
function secretOf(created: { clientSecret: string | null; tokenEndpointAuthMethod: ClientAuthMethod }): string | null {
  return created.tokenEndpointAuthMethod === 'client_secret_basic' || created.tokenEndpointAuthMethod === 'client_secret_post' ? created.clientSecret : null;
}

/** Routes of the application screens (mounted under `/operator`). */
export function operatorClientRoutes(identity: Identity, clients: ClientRegistry): express.Router {
  const router = express.Router();
  router.get('/applications', (_req, res) => renderList(identity, clients, res, {}, null));
  router.post('/applications', async (req, res) => {
    const form = registerForm.safeParse(req.body);
    if (!form.success) return renderList(identity, clients, res, {}, MALFORMED_FORM);
    const { clientId, clientName, redirectUris, postLogoutRedirectUris, backchannelLogoutUri, thirdParty, servedResources } = form.data;
    const client = {
      clientId: clientId.trim(), clientName: clientName.trim() || undefined, redirectUris: entriesOf(redirectUris, /\r?\n/),
      postLogoutRedirectUris: entriesOf(postLogoutRedirectUris, /\r?\n/), backchannelLogoutUri: backchannelLogoutUri.trim() || undefined, firstParty: !thirdParty,
      servedResources: entriesOf(servedResources, /\r?\n/), ...authenticationOf(form.data),
    };
    const created = await attempt(() => clients.create(client));
    if (isProblem(created)) return renderList(identity, clients, res, { values: form.data }, wordedForForm(created, client.jwks));
    const operator = operatorOf(res);
    const served = client.servedResources.length ? { servedResources: client.servedResources } : {};
    const method = created.tokenEndpointAuthMethod;
    await identity.events.publish({ type: 'client.created', actor: operator.actor, ip: operator.ip, data: { clientId: created.clientId, redirectUris: client.redirectUris, firstParty: client.firstParty, ...served, tokenEndpointAuthMethod: method } }, systemClock.now());
    res.status(201).render('operator-application-created', { title: 'Application registered', clientId: created.clientId, method, methodLabel: METHOD_LABELS[method], allowRefresh: client.allowRefresh === true, clientSecret: secretOf(created) });
  });
  router.post('/applications/service', async (req, res) => {
    const form = serviceForm.safeParse(req.body);
    if (!form.success) return renderList(identity, clients, res, {}, MALFORMED_FORM);
    const { clientId, clientName, servedResources } = form.data;
    const created = await attempt(async () => {
      const service = await serviceGrantOf(identity, form.data);
      const client = { clientId: clientId.trim(), clientName: clientName.trim() || undefined, redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service, servedResources: entriesOf(servedResources, /\r?\n/) };
      return { ...(await clients.create(client)), service };
    });
    if (isProblem(created)) return renderList(identity, clients, res, { service: form.data }, created);
    const operator = operatorOf(res);
    const { organizationId, functions } = created.service;
    await identity.events.publish({ type: 'client.created', actor: operator.actor, ip: operator.ip, organizationId, data: { clientId: created.clientId, service: true, organization: organizationId, functions, tokenEndpointAuthMethod: created.tokenEndpointAuthMethod } }, systemClock.now());
    const method = created.tokenEndpointAuthMethod;
    res.status(201).render('operator-application-created', { title: 'Service client registered', clientId: created.clientId, method, methodLabel: METHOD_LABELS[method], allowRefresh: false, clientSecret: secretOf(created) });
  });
  return router;
}
