/**
 * The assembly behind both ways to run connect-iam — a host that embeds it (`createConnectIam`, server/embed.ts)
 * and the ready-made host of `npm start` (server/app.ts): open the database, build the identity services, the
 * IdP (rebuilt when the signing keys change) and the admin console, start the mail outbox worker and the sweep,
 * and hand back the two request handlers, the operator operations and `close()`. Listening is the host's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import express from 'express';
import type { JWK } from 'jose';
import type pg from 'pg';
import { createAdminConsole } from '../admin-console/index.js';
import { createEventBus, forwardAuditEvents, type AuditHook, type Identity } from '../identity/index.js';
import { notifyClientsOnSessionsEnded, type Provider } from '../idp/index.js';
import type { Clock, Config, Logger, Mailer } from '../lib/index.js';
import { createClientStore, createSigningKeyStore, openDatabase, openPostgresPool, serveEmbeddedDatabase, sweepExpired, type ClientStore, type Database, type SigningKeyStore } from '../storage/index.js';
import { devOutboxRouter } from './dev-outbox.js';
import { ensureFirstPartyClient } from './first-party-client.js';
import { createOperations, type OperatorOperations } from './operations.js';
import { configuredMailer, sealingKeysOf, wireIdentity, wireIdp } from './wiring.js';

/**
 * A request handler for Express (`app.use('/idp', handler)`) and `node:http` (`http.createServer(handler)`)
 * alike. With `next`, requests outside its path are passed on; without, they get a plain 404.
 */
export type ConnectIamHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** Client id of the admin console at the IdP. */
export const ADMIN_CONSOLE_CLIENT_ID = 'admin-console';

/** Where the database comes from: open already (tests), a host's pool, or from `config` (DATABASE_URL, else embedded in DATA_DIR). */
export type DatabaseSource = { database: Database } | { pool: pg.Pool } | { url: string } | { fromConfig: true };

/** What {@link assembleConnectIam} needs; `config` is validated already (lib/config.ts). */
export interface AssembleOptions {
  config: Config;
  logger: Logger;
  clock: Clock;
  database: DatabaseSource;
  /** Default: from config (SMTP_URL, else `.eml` files in DATA_DIR/outbox). */
  mailer?: Mailer;
  /** Called with every committed audit event (identity/audit.ts `forwardAuditEvents`). */
  auditHooks?: readonly AuditHook[];
  /** Who acts in the audit log for the operator operations. */
  operationsActor: string;
}

/** The assembled parts. */
export interface ConnectIamCore {
  config: Config;
  issuer: string;
  logger: Logger;
  database: Database;
  identity: Identity;
  clients: ClientStore;
  keys: SigningKeyStore;
  operations: OperatorOperations;
  /** The IdP: pages, oidc-provider and (outside production without SMTP_URL) `/dev/outbox`, under the issuer's path. */
  idp: ConnectIamHandler;
  /** The admin console under ADMIN_CONSOLE_URL's path; built on its first request (or by {@link buildAdminConsole}). */
  adminConsole: ConnectIamHandler;
  /** Registers the console's client if missing and builds it (discovering the IdP at `issuer`). @throws what discovery throws. */
  buildAdminConsole(): Promise<void>;
  /** Resolves when password-link emails started by requests have been queued (the drain waits for it). */
  backgroundIdle(): Promise<void>;
  /** Stops the mail outbox worker after the attempt under way (each bounded by SMTP_TIMEOUT_SECONDS). */
  stopMailDelivery(): Promise<void>;
  /** Stops the worker and timers, waits for audit hooks, closes the mailer, and the database when this opened it. Idempotent. */
  close(): Promise<void>;
}

const SWEEP_INTERVAL_SECONDS = 300;

/** Opens the database `source` names; `owned` says whether close() must close it. */
async function openSource(source: DatabaseSource, config: Config, logger: Logger): Promise<{ database: Database; owned: boolean; stopSocket: () => Promise<void> }> {
  const none = async () => {};
  if ('database' in source) return { database: source.database, owned: false, stopSocket: none };
  if ('pool' in source) return { database: await openPostgresPool(source.pool), owned: false, stopSocket: none };
  const url = 'url' in source ? source.url : config.databaseUrl;
  if (url) {
    const onPoolError = (error: Error) => logger.warn({ err: error }, 'a pooled database connection failed; the pool opens a new one');
    return { database: await openDatabase({ url, ...config.database, onPoolError }), owned: true, stopSocket: none };
  }
  const database = await openDatabase({ dataDir: config.dataDir });
  const socket = await serveEmbeddedDatabase(database, config.dataDir);
  logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL opened; the CLI connects through its local socket');
  return { database, owned: true, stopSocket: () => socket.close() };
}

/** The path of `url` without its trailing slash (`''` at the root). */
function pathOf(url: string): string {
  return new URL(url).pathname.replace(/\/+$/, '');
}

/**
 * Wraps `handle`, which expects the full request path (`/idp/...`), so that it works however the host mounts it:
 * Express strips the mount path from `req.url` (keeping `req.originalUrl`), `node:http` does not. Requests
 * outside `basePath` go to `next`, or get a 404; so does what `handle` passes on, with `req` as it came.
 */
function underPath(basePath: string, handle: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void): ConnectIamHandler {
  return (req, res, next) => {
    const asMounted = { url: req.url, requestProto: Object.getPrototypeOf(req) as object, responseProto: Object.getPrototypeOf(res) as object };
    const full = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const pathname = full.split('?', 1)[0]!;
    const passOn = (error?: unknown) => {
      req.url = asMounted.url;
      Object.setPrototypeOf(req, asMounted.requestProto);
      Object.setPrototypeOf(res, asMounted.responseProto);
      if (next) return next(error);
      if (!res.headersSent) res.writeHead(error ? 500 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(error ? 'Internal error.\n' : 'Not found.\n');
    };
    if (basePath && pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return passOn();
    req.url = full;
    handle(req, res, passOn);
  };
}

/**
 * Assembles connect-iam on `options.config`.
 * @throws when the database cannot be opened or migrated, or oidc-provider refuses the configuration or keys.
 */
export async function assembleConnectIam(options: AssembleOptions): Promise<ConnectIamCore> {
  const { config, logger, clock } = options;
  const opened = await openSource(options.database, config, logger);
  const { database } = opened;
  const events = createEventBus();
  events.subscribe((event) => logger.info({ event: event.type, accountId: event.accountId, data: event.data }, 'event'));
  const mailer = options.mailer ?? configuredMailer(config, logger);
  const identity = wireIdentity(config, database, { mailer, clock, logger, events });
  // After the audit log's subscriber (createIdentity subscribes it first): hooks see committed events only.
  const forwarding = forwardAuditEvents(events, options.auditHooks ?? [], (error, event) =>
    logger.error({ err: error, eventId: event.id, event: event.type }, 'an audit event hook failed; the change it reports stands'),
  );
  const keys = createSigningKeyStore(database, sealingKeysOf(config));
  await keys.ensureKeys(clock.now());
  const clients = createClientStore(database, sealingKeysOf(config), { development: config.env === 'development' });

  let provider: Provider | undefined;
  let protocol: (req: IncomingMessage, res: ServerResponse) => boolean = () => false;
  const buildIdp = async (jwks: JWK[]) => {
    const built = await wireIdp(config, database, { identity, clients, jwks, clock, logger });
    provider = built.provider;
    protocol = built.protocol;
    return built.app;
  };
  // A rotated key signs from its sign_from (keys rotate: SIGNING_KEY_PUBLISH_AHEAD_SECONDS, at least twice
  // SIGNING_KEY_RELOAD_SECONDS, after every instance publishes it). A retiring key stays published twice the
  // reload interval past retire_at: an instance that had not reloaded yet may have signed with it that much later.
  const publication = { retireGraceSeconds: 2 * config.signingKeyReloadSeconds };
  let jwks = await keys.listJwks(clock.now(), publication);
  let idpApp = await buildIdp(jwks);
  // Suspension, closure and password reset send back-channel logout tokens through the current provider.
  notifyClientsOnSessionsEnded(() => provider!, events, logger);
  const basePath = pathOf(config.issuer);
  const pages = express();
  pages.disable('x-powered-by');
  // Outside production, mail written to DATA_DIR/outbox (no SMTP_URL, no transport given) is readable at /dev/outbox.
  if (config.env !== 'production' && !config.smtpUrl && !options.mailer) {
    pages.use(basePath || '/', devOutboxRouter(path.join(config.dataDir, 'outbox'), { secure: config.issuer.startsWith('https:'), basePath }));
  }
  pages.use((req, res, next) => idpApp(req, res, next));
  // oidc-provider's JSON endpoints (token, /me, JWKS, discovery, …) skip Express and the page middleware (idp/protocol-routes.ts).
  const idp = underPath(basePath, (req, res, next) => protocol(req, res) || pages(req as express.Request, res as express.Response, next));

  // Keys rotated by the CLI (or another instance) take effect here within SIGNING_KEY_RELOAD_SECONDS:
  // oidc-provider's keystore is fixed at construction, so a changed key set builds a new provider. All
  // protocol state lives in PostgreSQL, so requests in flight and later ones see the same sessions and grants.
  // One reload at a time: with a short interval, building the provider may take longer than a tick.
  let reloading = false;
  const keyReload = setInterval(() => {
    if (reloading) return;
    reloading = true;
    void (async () => {
      const next = await keys.listJwks(clock.now(), publication);
      if (next.map((k) => k.kid).join() === jwks.map((k) => k.kid).join()) return;
      idpApp = await buildIdp(next);
      jwks = next;
      logger.info({ kid: next[0]?.kid, kids: next.map((k) => k.kid) }, 'signing keys changed; the IdP publishes them all and signs with the first');
    })()
      .catch((error: unknown) => logger.warn({ err: error }, 'reloading signing keys failed'))
      .finally(() => (reloading = false));
  }, config.signingKeyReloadSeconds * 1000);
  keyReload.unref();
  const sweep = setInterval(() => {
    sweepExpired(database, clock.now()).catch((error: unknown) => logger.warn({ err: error }, 'sweeping expired rows failed'));
  }, SWEEP_INTERVAL_SECONDS * 1000);
  sweep.unref();
  // The mail outbox worker: what this instance enqueues leaves at once; polling picks up retries and the mail of
  // instances that stopped.
  identity.mailDelivery.start();

  const consoleBuilder = adminConsoleBuilder({ config, identity, clients, logger });
  const adminConsole = underPath(pathOf(config.adminConsole.url), (req, res, next) => consoleBuilder.handle(req as express.Request, res as express.Response, next));

  let closed: Promise<void> | undefined;
  return {
    config,
    issuer: config.issuer,
    logger,
    database,
    identity,
    clients,
    keys,
    operations: createOperations({ config, database, identity, clients, keys, clock }, options.operationsActor),
    idp,
    adminConsole,
    buildAdminConsole: () => consoleBuilder.build().then(() => undefined),
    backgroundIdle: () => identity.recovery.idle(),
    stopMailDelivery: () => identity.mailDelivery.stop(),
    close: () =>
      (closed ??= (async () => {
        clearInterval(sweep);
        clearInterval(keyReload);
        await identity.mailDelivery.stop();
        await forwarding.settled();
        mailer.close?.();
        await opened.stopSocket();
        if (opened.owned) await database.close();
      })()),
  };
}

/** How long after a failed build of the console the next request tries again, in seconds (in between: 503). */
const CONSOLE_RETRY_SECONDS = 1;

/**
 * The console, built once on demand: registers its client when missing (idempotently: instances starting together
 * agree on one registration) and discovers the IdP over HTTP at `issuer` — which answers only once the host
 * listens, hence not at assembly. Until it is built, and for {@link CONSOLE_RETRY_SECONDS} after a failure,
 * requests get 503 with `Retry-After`.
 */
function adminConsoleBuilder(deps: { config: Config; identity: Identity; clients: ClientStore; logger: Logger }) {
  const { config, identity, clients, logger } = deps;
  let built: Promise<express.Express> | undefined;
  let failedAt = 0;
  const build = () =>
    (built ??= (async () => {
      const clientSecret = await ensureFirstPartyClient(clients, { clientId: ADMIN_CONSOLE_CLIENT_ID, clientName: 'Admin console', origin: config.adminConsole.url });
      return createAdminConsole({
        identity,
        clients,
        issuer: config.issuer,
        clientId: ADMIN_CONSOLE_CLIENT_ID,
        clientSecret,
        baseUrl: config.adminConsole.url,
        cookieSecret: config.cookieKeys[0]!,
        timeZone: config.timeZone,
        allowInsecureRequests: config.issuer.startsWith('http:'),
        logger,
      });
    })().catch((error: unknown) => {
      built = undefined;
      failedAt = Date.now();
      throw error;
    }));
  const unavailable = (res: express.Response) =>
    void res.writeHead(503, { 'retry-after': String(CONSOLE_RETRY_SECONDS), 'content-type': 'text/plain; charset=utf-8' }).end('The admin console is starting; retry in a moment.\n');
  return {
    build,
    handle(req: express.Request, res: express.Response, next: (error?: unknown) => void) {
      if (!built && Date.now() - failedAt < CONSOLE_RETRY_SECONDS * 1000) return unavailable(res);
      build().then(
        (app) => app(req, res, next),
        (error: unknown) => {
          logger.warn({ err: error, issuer: config.issuer }, 'admin console: discovery of the IdP failed; retrying on a later request');
          unavailable(res);
        },
      );
    },
  };
}
