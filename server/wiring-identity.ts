/**
 * How the identity services and the mail transport are wired from configuration, for every process: the server,
 * the operator CLI (server/cli.ts) and tests. Apart from server/wiring.ts (which re-exports these) because it never
 * loads the IdP: the CLI imports only this, so oidc-provider stays unloaded there.
 */
import path from 'node:path';
import { configurePasswordHashing, createEventBus, createIdentity, DEFAULT_PASSWORD_HASHING_LIMITS, type EventBus, type Identity } from '../identity/index.js';
import { createMailer, type Clock, type Config, type Logger, type Mailer, type SealingKeys } from '../lib/index.js';
import { createIdentityStores, type Database } from '../storage/index.js';

/** The keys that seal secrets at rest: `ENCRYPTION_KEY`, and `PREVIOUS_ENCRYPTION_KEYS` during a rotation; `ALLOW_LEGACY_SEALED`. */
export function sealingKeysOf(config: Config): SealingKeys {
  return { current: config.encryptionKey, previous: config.previousEncryptionKeys, allowLegacy: config.allowLegacySealed };
}

/** The mail transport the outbox worker sends through: SMTP when `SMTP_URL` is set (`SMTP_TIMEOUT_SECONDS`), otherwise `.eml` files in `DATA_DIR/outbox`. */
export function configuredMailer(config: Config, logger: Logger): Mailer {
  const from = config.mailFrom;
  return createMailer(config.smtpUrl ? { smtpUrl: config.smtpUrl, from, logger, timeoutSeconds: config.mail.smtpTimeoutSeconds } : { outboxDir: path.join(config.dataDir, 'outbox'), from, logger });
}

/**
 * The identity services on `database`, configured from `config`. `events` defaults to a new bus. Also sets the
 * process-wide argon2 limits (`PASSWORD_HASH_CONCURRENCY`, `PASSWORD_HASH_QUEUE_LIMIT`).
 */
export function wireIdentity(config: Config, database: Database, deps: { mailer: Mailer; clock: Clock; logger: Logger; events?: EventBus }): Identity {
  configurePasswordHashing({ concurrency: config.passwordHashing.concurrency ?? DEFAULT_PASSWORD_HASHING_LIMITS.concurrency, queueLimit: config.passwordHashing.queueLimit });
  return createIdentity({
    stores: createIdentityStores(database, sealingKeysOf(config)),
    events: deps.events ?? createEventBus(),
    mailer: deps.mailer,
    mailDelivery: config.mail,
    clock: deps.clock,
    logger: deps.logger,
    lockout: config.lockout,
    otp: config.otp,
    displayName: config.displayName,
    recovery: config.recovery,
    issuer: config.issuer,
    authenticatorPolicy: config.authenticator,
    timeZone: config.timeZone,
  });
}
