/**
 * The composition root: read config, open the database, build stores → services → apps, listen.
 * `npm start` (server/main.ts) and the test harness both start connect-iam through {@link startConnectIam}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import type { JWK } from 'jose';
import { createEventBus, type Identity } from '../identity/index.js';
import { notifyClientsOnSessionsEnded, type Provider } from '../idp/index.js';
import { createLogger, systemClock, type Clock, type Config, type Logger, type Mailer } from '../lib/index.js';
import {
  createClientStore,
  createSigningKeyStore,
  openDatabase,
  serveEmbeddedDatabase,
  sweepExpired,
  type ClientStore,
  type Database,
  type SigningKeyStore,
} from '../storage/index.js';
import { devOutboxRouter } from './dev-outbox.js';
import { createReadiness, healthEndpoints, type Readiness } from './health.js';
import { drainable, type DrainResult } from './http-drain.js';
import { configuredMailer, sealingKeysOf, wireIdentity, wireIdp } from './wiring.js';

/** What {@link startConnectIam} accepts; everything but `config` is optional (tests inject their own). */
export interface StartOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  /** An already-open database (tests). Otherwise opened from `config` and closed by `close()`. */
  database?: Database;
  mailer?: Mailer;
}

/** A running IdP. */
export interface RunningConnectIam {
  /** The effective configuration (with the real port and issuer when `config.port` was 0). */
  config: Config;
  issuer: string;
  server: http.Server;
  database: Database;
  identity: Identity;
  clients: ClientStore;
  keys: SigningKeyStore;
  logger: Logger;
  /** What `/readyz` reports, shared with the admin console; `beginShutdown()` makes it answer 503. */
  readiness: Readiness;
  /**
   * Graceful stop, step one: closes the listener, lets requests in flight finish within
   * `config.shutdown.graceSeconds`, then waits (within what is left of it) for background work such as
   * password-link emails. The database stays open: call {@link close} next.
   */
  drain(): Promise<DrainResult>;
  /** Stops listening (cutting off open connections), stops timers, closes the database when this call opened it. */
  close(): Promise<void>;
}

const SWEEP_INTERVAL_SECONDS = 300;

/** Opens the configured database: PostgreSQL at `DATABASE_URL` (with its configured bounds), or the embedded one served on a local socket for the CLI. */
async function openConfiguredDatabase(config: Config, logger: Logger): Promise<{ database: Database; stopSocket: () => Promise<void> }> {
  if (config.databaseUrl) {
    const onPoolError = (error: Error) => logger.warn({ err: error }, 'a pooled database connection failed; the pool opens a new one');
    return { database: await openDatabase({ url: config.databaseUrl, ...config.database, onPoolError }), stopSocket: async () => {} };
  }
  const database = await openDatabase({ dataDir: config.dataDir });
  const socket = await serveEmbeddedDatabase(database, config.dataDir);
  logger.info({ dataDir: config.dataDir }, 'embedded PostgreSQL opened; the CLI connects through its local socket');
  return { database, stopSocket: () => socket.close() };
}

/**
 * Starts the IdP: opens storage, ensures signing keys, builds identity services and oidc-provider, listens.
 * @throws when the database cannot be opened (e.g. the embedded one is held by another process).
 */
export async function startConnectIam(options: StartOptions): Promise<RunningConnectIam> {
  const logger = options.logger ?? createLogger(options.config.logLevel);
  const clock = options.clock ?? systemClock;
  // Listen first (tests pass port 0 and need the real port for the issuer), but answer 503 until the IdP is
  // built, so a request that arrives during start-up gets an answer instead of hanging. /healthz and /readyz
  // come before everything else.
  let handle: http.RequestListener = (_req, res) => {
    res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain; charset=utf-8' }).end('connect-iam is starting; retry in a moment.\n');
  };
  const readiness = createReadiness(logger);
  let started = false;
  const health = healthEndpoints(readiness, () => started);
  // oidc-provider's JSON endpoints (token, /me, JWKS, discovery, …) skip Express and the page middleware (idp/protocol-routes.ts).
  let protocol: (req: http.IncomingMessage, res: http.ServerResponse) => boolean = () => false;
  const server = http.createServer((req, res) => health(req, res) || protocol(req, res) || handle(req, res));
  const drain = drainable(server, options.config.shutdown.graceSeconds);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.config.port, options.config.host, resolve));
  const actualPort = (server.address() as AddressInfo).port;
  // Port 0 (tests, outside production only) takes a free port, and the issuer follows it.
  const derived = options.config.port === 0 && options.config.env !== 'production';
  const config = derived ? { ...options.config, port: actualPort, issuer: `http://${options.config.host}:${actualPort}` } : { ...options.config, port: actualPort };

  const opened = options.database ? { database: options.database, stopSocket: async () => {} } : await openConfiguredDatabase(config, logger);
  const { database } = opened;
  readiness.watch(database);
  const events = createEventBus();
  events.subscribe((event) => logger.info({ event: event.type, accountId: event.accountId, data: event.data }, 'event'));
  const mailer = options.mailer ?? configuredMailer(config, logger);
  const identity = wireIdentity(config, database, { mailer, clock, logger, events });
  const keys = createSigningKeyStore(database, sealingKeysOf(config));
  await keys.ensureKeys(clock.now());
  const clients = createClientStore(database, sealingKeysOf(config), { development: config.env === 'development' });
  let provider: Provider | undefined;
  let builtProtocol: typeof protocol = () => false;
  const buildIdp = async (jwks: JWK[]) => {
    const built = await wireIdp(config, database, { identity, clients, jwks, clock, logger });
    provider = built.provider;
    builtProtocol = built.protocol;
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
  const app = express();
  app.disable('x-powered-by');
  if (config.env !== 'production' && !config.smtpUrl) app.use(devOutboxRouter(path.join(config.dataDir, 'outbox'), { secure: config.issuer.startsWith('https:') }));
  app.use((req, res, next) => idpApp(req, res, next));
  handle = app;
  protocol = (req, res) => builtProtocol(req, res);
  started = true;
  // The mail outbox worker: what this instance enqueues leaves at once; polling picks up retries and the mail of
  // instances that stopped. Stopped by drain()/close() before the database closes.
  identity.mailDelivery.start();

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
  logger.info({ issuer: config.issuer }, 'connect-iam IdP listening');

  return {
    config,
    issuer: config.issuer,
    server,
    database,
    identity,
    clients,
    keys,
    logger,
    readiness,
    async drain() {
      const graceEnds = Date.now() + config.shutdown.graceSeconds * 1000;
      readiness.beginShutdown();
      const result = await drain.drain();
      // Work started by requests that outlives them (password-link emails) still needs the database.
      const left = Math.max(0, graceEnds - Date.now());
      const idle = await Promise.race([identity.recovery.idle().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), left).unref())]);
      if (!idle) logger.warn('background work (password-link emails) still running when the grace period ran out');
      // Mail attempts under way finish (each is bounded by SMTP_TIMEOUT_SECONDS); what is left stays in the outbox.
      const stopped = await Promise.race([identity.mailDelivery.stop().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), Math.max(0, graceEnds - Date.now())).unref())]);
      if (!stopped) logger.warn('a mail delivery attempt was still running when the grace period ran out; its lease ends and it is retried');
      return result;
    },
    async close() {
      clearInterval(sweep);
      clearInterval(keyReload);
      readiness.beginShutdown();
      await identity.mailDelivery.stop();
      mailer.close?.();
      await readiness.close();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await opened.stopSocket();
      if (!options.database) await database.close();
    },
  };
}
