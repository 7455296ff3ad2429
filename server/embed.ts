/**
 * `createConnectIam`: connect-iam as a module a Node service embeds — the `connect-iam` package's main export.
 * The host mounts the IdP and the admin console wherever its public URLs say, hands over its own database pool,
 * mail transport and logger if it likes, provisions from code with the operator operations, and listens itself.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createConnectIam } from 'connect-iam';
 *
 * const iam = await createConnectIam({
 *   config: { ISSUER: 'https://portal.example.com/idp', ADMIN_CONSOLE_URL: 'https://portal.example.com/admin', NODE_ENV: 'production', COOKIE_KEYS: process.env.COOKIE_KEYS, ENCRYPTION_KEY: process.env.ENCRYPTION_KEY },
 *   database: pool,                           // a pg.Pool of the host's, or a connection string
 *   onAuditEvent: (event) => siem.send(event),
 * });
 * const app = express();
 * app.use('/idp', iam.idp);
 * app.use('/admin', iam.adminConsole);
 * app.listen(8080);
 * ```
 */
import type pg from 'pg';
import type { AuditEvent, AuditHook } from '../identity/index.js';
import { ConfigError, createLogger, createMailer, loadConfig, systemClock, type Config, type Logger, type MailTransport, type environmentSchema } from '../lib/index.js';
import type { z } from 'zod';
import { assembleConnectIam, type ConnectIamHandler, type DatabaseSource } from './connect-iam.js';
import type { OperatorOperations } from './operations.js';

export { ConfigError, loadConfig, type Config, type AuditEvent, type AuditHook, type ConnectIamHandler, type MailTransport, type OperatorOperations };
export type { NewAccount, NewCampaign, NewClientRegistration, RegisteredClient, RotatedSigningKey } from './operations.js';

/** The names of the settings: the environment variables of docs/configuration.md (lib/config.ts's schema). */
export type SettingName = keyof z.input<typeof environmentSchema>;

/**
 * Settings by their environment-variable names, validated by the same zod schema as the environment
 * (docs/configuration.md): `{ ISSUER: 'https://portal.example.com/idp', LOCKOUT_MAX_FAILURES: 5, DEMO_DATA: false }`.
 * Numbers and booleans are accepted as such; a list (`COOKIE_KEYS`) as an array or comma-separated. `undefined`
 * means the default. `process.env` is not read: spread it in (`{ ...process.env, ISSUER: … }`) to use it.
 */
export type ConnectIamSettings = { [K in SettingName]?: string | number | boolean | readonly string[] | undefined };

/** Options of {@link createConnectIam}. */
export interface ConnectIamOptions {
  /** The configuration; see {@link ConnectIamSettings}. ISSUER's path is where `idp` is mounted, ADMIN_CONSOLE_URL's where `adminConsole` is. */
  config?: ConnectIamSettings;
  /**
   * The database: a `pg.Pool` of the host's (migrated, used as is, never ended by `close()`), or a PostgreSQL
   * connection string (opened with DATABASE_* bounds, closed by `close()`). Default: DATABASE_URL, else the
   * embedded PostgreSQL under DATA_DIR.
   */
  database?: pg.Pool | string;
  /**
   * Where mail goes, instead of SMTP_URL (or `.eml` files in DATA_DIR/outbox): a nodemailer transporter (left
   * open by `close()`) or anything `nodemailer.createTransport` accepts (made and closed here). Mail still goes
   * through the durable outbox in the database, sent from MAIL_FROM.
   */
  mailTransport?: MailTransport;
  /** A pino logger (its level is the host's). Default: pino at LOG_LEVEL, secrets redacted. */
  logger?: Logger;
  /**
   * Called with every audit event (docs/events.md) once it is committed, e.g. to forward it to a SIEM. Not
   * awaited by the change it reports: a slow or failing hook never delays or undoes it; errors are logged.
   */
  onAuditEvent?: AuditHook | readonly AuditHook[];
}

/** What {@link createConnectIam} returns. */
export interface ConnectIam {
  /**
   * The OpenID Provider, its pages (sign-in, /account, password reset) and, outside production without a mail
   * transport, `/dev/outbox`. Mount it at ISSUER's path (`app.use('/idp', iam.idp)`, or as a `node:http`
   * listener when ISSUER has no path). Every URL it writes comes from ISSUER, never from the Host header.
   */
  idp: ConnectIamHandler;
  /**
   * The admin console for delegated administrators and operators; mount it at ADMIN_CONSOLE_URL's path. It is a
   * client of the IdP: on its first request it registers itself (client `admin-console`) when missing and
   * discovers the IdP at ISSUER over HTTP, answering 503 with `Retry-After` until the IdP can be reached.
   */
  adminConsole: ConnectIamHandler;
  /** The operator operations, the same as the CLI's commands. Errors are `DomainError`s (`code`, `fieldErrors`). */
  operations: OperatorOperations;
  /** ISSUER, without a trailing slash. */
  issuer: string;
  /** The validated configuration. */
  config: Config;
  /**
   * Stops the mail outbox worker (after the attempt under way) and the timers, waits for audit hooks called so
   * far, closes the mail transport it made, and the database when it opened it (never the host's pool). Stop
   * the host's listener first. Idempotent.
   */
  close(): Promise<void>;
}

/** `settings` as environment-variable strings. */
function asEnvironment(settings: ConnectIamSettings): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    env[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}

/**
 * Opens the database, migrates it, ensures signing keys and builds the IdP and the admin console; starts the mail
 * outbox worker, the signing-key reload (SIGNING_KEY_RELOAD_SECONDS) and the expired-row sweep.
 * @throws ConfigError listing every invalid setting (or development keys in production).
 * @throws when the database cannot be reached or migrated (the driver's error), or the embedded one is held by
 *   another process (DomainError `unavailable`).
 */
export async function createConnectIam(options: ConnectIamOptions = {}): Promise<ConnectIam> {
  const config = loadConfig(asEnvironment(options.config ?? {}));
  const logger = options.logger ?? createLogger(config.logLevel);
  const database: DatabaseSource = options.database === undefined ? { fromConfig: true } : typeof options.database === 'string' ? { url: options.database } : { pool: options.database };
  const mailer = options.mailTransport === undefined ? undefined : createMailer({ transport: options.mailTransport, from: config.mailFrom, logger });
  const hooks = options.onAuditEvent === undefined ? [] : Array.isArray(options.onAuditEvent) ? options.onAuditEvent : [options.onAuditEvent as AuditHook];
  const core = await assembleConnectIam({ config, logger, clock: systemClock, database, mailer, auditHooks: hooks, operationsActor: 'operator-api' });
  return { idp: core.idp, adminConsole: core.adminConsole, operations: core.operations, issuer: core.issuer, config, close: () => core.close() };
}
