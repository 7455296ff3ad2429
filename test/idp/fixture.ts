/**
 * An IdP app for idp/ tests: the real storage (PGlite, or PostgreSQL under `TEST_DATABASE_URL`), real
 * identity services, real signing keys and clients, and an in-process mailer that keeps each message so a
 * test can read its one-time code. Requests go through supertest against the Express app.
 */
import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import * as cheerio from 'cheerio';
import request from 'supertest';
import type { Identity } from '../../identity/index.js';
import type { Provider } from '../../idp/index.js';
import { createLogger, loadConfig, type Config, type MailMessage } from '../../lib/index.js';
import { sealingKeysOf, wireIdentity, wireIdp } from '../../server/wiring.js';
import { createClientStore, createSigningKeyStore, type ClientStore, type Database } from '../../storage/index.js';
import { memberships } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';

export const ISSUER = 'http://localhost:3999';
export const PASSWORD = 'correct horse battery staple';

/** A running IdP app with its parts. */
export interface IdpFixture {
  app: express.Express;
  provider: Provider;
  identity: Identity;
  config: Config;
  database: Database;
  clients: ClientStore;
  mails: MailMessage[];
  /** Another IdP instance on the same database (as a second server behind a load balancer). */
  instance(): Promise<express.Express>;
  /** Creates an organization; returns its id. */
  organization(name: string, participantIds: string[]): Promise<string>;
  /** Creates an active account with {@link PASSWORD} in `organizationId`; more memberships with `alsoIn`. */
  account(userId: string, organizationId: string, alsoIn?: { organizationId: string; functions: string[] }[]): Promise<{ id: string; userId: string; email: string }>;
  /** Registers a confidential client; returns its secret. */
  client(input: { clientId: string; redirectUri: string; firstParty?: boolean; initiateLoginUri?: string; postLogoutRedirectUri?: string }): Promise<string>;
  close(): Promise<void>;
}

/** Starts the fixture; `env` overrides configuration variables. */
export async function startIdp(env: Record<string, string> = {}): Promise<IdpFixture> {
  const config = loadConfig({ NODE_ENV: 'test', ISSUER, LOG_LEVEL: 'silent', DEMO_DATA: 'false', DEMO_PORTALS: 'false', OTP_RESEND_INTERVAL_SECONDS: '1', ...env });
  const database = await openTestDatabase();
  const logger = createLogger(config.logLevel);
  const clock = { now: () => new Date() };
  const mails: MailMessage[] = [];
  const identity = wireIdentity(config, database, { mailer: { send: async (message) => void mails.push(message) }, clock, logger });
  const keys = createSigningKeyStore(database, sealingKeysOf(config));
  await keys.ensureKeys(clock.now());
  const clients = createClientStore(database, sealingKeysOf(config));
  const deps = { identity, clients, jwks: await keys.listJwks(clock.now()), clock, logger };
  const { app, provider } = await wireIdp(config, database, deps);
  return {
    app, provider, identity, config, database, clients, mails,
    instance: async () => (await wireIdp(config, database, deps)).app,
    async organization(name, participantIds) {
      return (await identity.organizations.createOrganization({ name, participantIds }, 'test')).id;
    },
    async account(userId, organizationId, alsoIn = []) {
      const email = `${userId}@example.com`;
      const { account } = await identity.accounts.createAccount({ organization: organizationId, userId, name: `Test ${userId}`, email, phone: '+852 5555 0000', functions: ['EU_UserMaintenance'], password: PASSWORD }, 'test');
      for (const m of alsoIn) await database.db.insert(memberships).values({ accountId: account.id, organizationId: m.organizationId, functions: m.functions, createdAt: new Date() });
      return { id: account.id, userId, email };
    },
    async client(input) {
      const created = await clients.create({
        clientId: input.clientId,
        redirectUris: [input.redirectUri],
        postLogoutRedirectUris: input.postLogoutRedirectUri ? [input.postLogoutRedirectUri] : [],
        initiateLoginUri: input.initiateLoginUri,
        firstParty: input.firstParty ?? true,
      });
      return created.clientSecret;
    },
    close: () => database.close(),
  };
}

/** A browser for the fixture (or any app): a supertest agent, which keeps cookies between requests. */
export function browser(target: IdpFixture | express.Express) {
  return request.agent('app' in target ? target.app : target);
}

/** An app that sends each request to the next of `apps` in turn, like a round-robin load balancer. */
export function roundRobin(apps: express.Express[]): express.Express {
  let next = 0;
  const balancer = express();
  balancer.use((req, res, done) => apps[next++ % apps.length]!(req, res, done));
  return balancer;
}

/** A supertest agent. */
export type Browser = ReturnType<typeof browser>;

/** An authorization request with PKCE S256, as a relying party would send it. */
export function authorizationUrl(clientId: string, redirectUri: string, extra: Record<string, string> = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const params = new URLSearchParams({
    client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email organization',
    code_challenge: challenge, code_challenge_method: 'S256', state: randomBytes(8).toString('hex'), nonce: randomBytes(8).toString('hex'), ...extra,
  });
  return { url: `/auth?${params}`, verifier };
}

/** `url` relative to the issuer when it is on the issuer (supertest requests paths of the app). */
export function onIssuer(url: string): string {
  return url.startsWith(ISSUER) ? url.slice(ISSUER.length) : url;
}

/** The path (with query) of a Location header; absolute URLs on the issuer become relative. */
export function locationOf(response: { headers: Record<string, string> }): string {
  return onIssuer(response.headers.location ?? '');
}

/** Reads a page's forms: the form holding a field labelled `label`, its action and its hidden fields. */
export function formWith(html: string, label: string): { action: string; fields: Record<string, string>; name: string } {
  const $ = cheerio.load(html);
  const labelEl = $('label').filter((_, l) => $(l).text().trim() === label).first();
  if (!labelEl.length) throw new Error(`no field labelled "${label}"`);
  const input = $(`#${labelEl.attr('for')}`);
  const form = input.closest('form');
  const fields: Record<string, string> = {};
  form.find('input[type=hidden]').each((_, i) => void (fields[$(i).attr('name')!] = $(i).attr('value') ?? ''));
  return { action: form.attr('action')!, fields, name: input.attr('name')! };
}

/** The form whose submit button reads `button`: its action and hidden fields. */
export function formWithButton(html: string, button: string): { action: string; fields: Record<string, string> } {
  const $ = cheerio.load(html);
  const form = $('form').filter((_, f) => $(f).find('button').filter((__, b) => $(b).text().trim() === button).length > 0).first();
  if (!form.length) throw new Error(`no form with a "${button}" button`);
  const fields: Record<string, string> = {};
  form.find('input[type=hidden]').each((_, i) => void (fields[$(i).attr('name')!] = $(i).attr('value') ?? ''));
  return { action: form.attr('action')!, fields };
}

/** The text of a page's body, whitespace collapsed. */
export function textOf(html: string): string {
  return cheerio.load(html)('body').text().replace(/\s+/g, ' ').trim();
}

/** The 6-digit code in the newest mail to `email`. */
export function latestCode(fixture: IdpFixture, email: string): string {
  const mail = fixture.mails.filter((m) => m.to === email).at(-1);
  const code = mail?.text.match(/\b(\d{6})\b/)?.[1];
  if (!code) throw new Error(`no code mailed to ${email}`);
  return code;
}
