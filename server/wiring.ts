/**
 * How the parts are wired from configuration — the one place, used by the server (server/app.ts), the operator
 * CLI (server/cli.ts) and tests that build the IdP without listening, so they can never drift apart.
 */
import type { JWK } from 'jose';
import { createSftpDecisions, type Identity } from '../identity/index.js';
import { createIdp } from '../idp/index.js';
import type { Clock, Config, Logger } from '../lib/index.js';
import { createOidcAdapter, createSftpDecisionThrottle, createSignInThrottle, type ClientStore, type Database } from '../storage/index.js';
import { sealingKeysOf } from './wiring-identity.js';

export { configuredMailer, sealingKeysOf, wireIdentity } from './wiring-identity.js';

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
