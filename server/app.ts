/**
 * The ready-made host of `npm start`: listens, and serves connect-iam assembled the same way an embedding host
 * gets it (server/connect-iam.ts, behind `createConnectIam`), plus what a standalone server needs around it —
 * `/healthz` and `/readyz`, the embedded database's CLI socket, a graceful drain. server/main.ts and the test
 * harness start it through {@link startConnectIam}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Identity } from '../identity/index.js';
import { createLogger, systemClock, type Clock, type Config, type Logger, type Mailer } from '../lib/index.js';
import type { ClientStore, Database, SigningKeyStore } from '../storage/index.js';
import { assembleConnectIam, type ConnectIamCore } from './connect-iam.js';
import { createReadiness, healthEndpoints, type Readiness } from './health.js';
import { drainable, type DrainResult } from './http-drain.js';

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
  /** The assembled parts: the admin console's handler, the operator operations (server/admin-console.ts serves the console). */
  core: ConnectIamCore;
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
  const server = http.createServer((req, res) => health(req, res) || handle(req, res));
  const drain = drainable(server, options.config.shutdown.graceSeconds);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.config.port, options.config.host, resolve));
  const actualPort = (server.address() as AddressInfo).port;
  // Port 0 (tests, outside production only) takes a free port, and the issuer follows it.
  const derived = options.config.port === 0 && options.config.env !== 'production';
  const config = derived ? { ...options.config, port: actualPort, issuer: `http://${options.config.host}:${actualPort}` } : { ...options.config, port: actualPort };

  let core: ConnectIamCore;
  try {
    core = await assembleConnectIam({
      config, logger, clock, mailer: options.mailer, operationsActor: 'operator-api',
      database: options.database ? { database: options.database } : { fromConfig: true },
    });
  } catch (error) {
    server.closeAllConnections();
    server.close();
    throw error;
  }
  const { database, identity } = core;
  readiness.watch(database);
  const idp = core.idp;
  handle = (req, res) => idp(req, res);
  started = true;
  logger.info({ issuer: config.issuer }, 'connect-iam IdP listening');

  return {
    config,
    issuer: config.issuer,
    server,
    database,
    identity,
    clients: core.clients,
    keys: core.keys,
    logger,
    core,
    readiness,
    async drain() {
      const graceEnds = Date.now() + config.shutdown.graceSeconds * 1000;
      readiness.beginShutdown();
      const result = await drain.drain();
      // Work started by requests that outlives them (password-link emails) still needs the database.
      const left = Math.max(0, graceEnds - Date.now());
      const idle = await Promise.race([core.backgroundIdle().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), left).unref())]);
      if (!idle) logger.warn('background work (password-link emails) still running when the grace period ran out');
      // Mail attempts under way finish (each is bounded by SMTP_TIMEOUT_SECONDS); what is left stays in the outbox.
      const stopped = await Promise.race([core.stopMailDelivery().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), Math.max(0, graceEnds - Date.now())).unref())]);
      if (!stopped) logger.warn('a mail delivery attempt was still running when the grace period ran out; its lease ends and it is retried');
      return result;
    },
    async close() {
      readiness.beginShutdown();
      await readiness.close();
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.close();
    },
  };
}
