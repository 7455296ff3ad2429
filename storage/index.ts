/**
 * storage/: PostgreSQL implementations of identity/'s store interfaces, the oidc-provider adapter, clients,
 * signing keys and migrations — on a PostgreSQL server (`pg`) or the embedded PostgreSQL (PGlite).
 */
export { openPostgresPool } from './postgres-pool.js';
export { openDatabase, type Database, type Db, type Tx, type Executor, type Schema, type QueryClient, type RateLimiterClient, type OpenDatabaseOptions, type PostgresOptions, type MemoryOptions, type DataDirOptions } from './database.js';
export { EmbeddedDatabaseInUseError, LOCK_STALE_SECONDS, type LockOwner } from './folder-lock.js';
export { serveEmbeddedDatabase, embeddedSocketPath, EMBEDDED_SOCKET_PORT, type EmbeddedDatabaseSocket, type ServeEmbeddedOptions } from './embedded-socket.js';
export { openDatabaseForCli, type CliDatabase } from './cli-database.js';
export { MIGRATIONS_FOLDER } from './migrate.js';
export { createDatabaseProbe, type DatabaseProbe, type DatabaseProbeResult } from './database-probe.js';
export { createIdentityStores } from './identity-stores.js';
export { createSignInThrottle, clientNetworkKey, RATE_LIMITER_TABLE, type SignInThrottleSettings } from './sign-in-throttle.js';
export { createSftpDecisionThrottle, type SftpDecisionThrottleSettings } from './sftp-decision-throttle.js';
export { createChangeRequestStore } from './change-request-store.js';
export { resealAuthenticatorSecrets, type SealingKeys } from './authenticator-store.js';
export { resealSecrets, type ResealCounts } from './reseal.js';
export { createOidcAdapter, clientMetadata, type OidcAdapter, type OidcAdapterClass, type OidcAdapterOptions } from './oidc-adapter.js';
export type { OidcPayload } from './oidc-models.js';
export { revokeGrant, revokeAccountGrants, revokeAccountGrantsOn, REVOKED_GRANT_RETENTION_SECONDS } from './oidc-grant-revocation.js';
export { sweepExpired, EXPIRED_OTP_RETENTION_SECONDS, FINISHED_MAIL_RETENTION_SECONDS, RATE_LIMIT_RETENTION_SECONDS, type SweepCounts } from './sweep.js';
export { createClientStore, type ClientStore, type ClientRecord, type ClientSummary, type NewClient, type ClientStoreOptions } from './client-store.js';
export { CLIENT_AUTH_METHODS, type ClientAuthMethod, type PublicJwks } from './client-authentication.js';
export { createSigningKeyStore, SIGNING_ALG, type SigningKeyStore, type SigningKeyInfo } from './signing-key-store.js';
