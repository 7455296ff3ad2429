/**
 * How the parts are wired from configuration — the one place, used by the server (server/app.ts), the operator
 * CLI (server/cli.ts) and tests that build the IdP without listening, so they can never drift apart.
 */
import path from 'node:path';
import type { JWK } from 'jose';
import { configurePasswordHashing, createEventBus, createIdentity, createSftpDecisions, DEFAULT_PASSWORD_HASHING_LIMITS, type EventBus, type Identity } from '../identity/index.js';
import { createIdp } from '../idp/index.js';
import { createMailer, type Clock, type Config, type Logger, type Mailer, type SealingKeys } from '../lib/index.js';
import { createIdentityStores, createOidcAdapter, createSftpDecisionThrottle, createSignInThrottle, type ClientStore, type Database } from '../storage/index.js';

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

/** The IdP app (oidc-provider and our pages) for one signing key set; the applications listed come from `clients`. */
export function wireIdp(config: Config, database: Database, deps: { identity: Identity; clients: ClientStore; jwks: JWK[]; clock: Clock; logger: Logger }) {
  const { identity, clients, jwks, clock, logger } = deps;
  return createIdp({
    config,
    identity,
    adapter: createOidcAdapter(database, { encryptionKey: sealingKeysOf(config), clock }),
    signInThrottle: createSignInThrottle(database, config.signInThrottle),
    sftpDecisions: createSftpDecisions({
      accounts: identity.stores.accounts, sftp: identity.sftp, events: identity.events, clock,
      throttle: createSftpDecisionThrottle(database, config.sftp.refusalThrottle), decisionTtlSeconds: config.sftp.decisionTtlSeconds,
    }),
    jwks: { keys: jwks },
    logger,
    clock,
    listApplications: async () =>
      (await clients.list()).flatMap((c) => (c.initiateLoginUri ? [{ name: c.clientName ?? c.clientId, initiateLoginUri: c.initiateLoginUri }] : [])),
  });
}
