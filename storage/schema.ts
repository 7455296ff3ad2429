/**
 * The PostgreSQL schema (drizzle-orm pg-core). SQL names are snake_case; times are `timestamptz` read as
 * `Date`. `npx drizzle-kit generate` turns changes here into a new SQL migration in `storage/migrations/`.
 *
 * Unique constraints carry stable names because storage maps PostgreSQL's 23505 errors to field errors by
 * constraint name (see `postgres-errors.ts`).
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, customType, index, integer, jsonb, pgSequence, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Member firms. The name is unique case-insensitively. */
export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [uniqueIndex('organizations_name_lower_key').on(sql`lower(${t.name})`)],
);

/** Participant IDs, unique across all organizations; `position` keeps the order they were given in. */
export const participantIds = pgTable(
  'participant_ids',
  {
    participantId: text('participant_id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
  },
  (t) => [index('participant_ids_organization_id_idx').on(t.organizationId)],
);

/** Logins. `user_id` and `email` are unique case-insensitively (unique indexes on `lower()`). */
export const accounts = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    phone: text('phone').notNull(),
    status: text('status', { enum: ['active', 'suspended', 'closed'] }).notNull(),
    passwordHash: text('password_hash'),
    /** Second factor asked for first at sign-in when the account has a confirmed authenticator app. */
    preferredFactor: text('preferred_factor', { enum: ['app', 'email'] }).notNull().default('app'),
    /** Holds the operator role (the console's operator screens); granted and revoked only by the operator CLI. */
    operator: boolean('operator').notNull().default(false),
    createdAt: instant('created_at').notNull(),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('accounts_user_id_lower_key').on(sql`lower(${t.userId})`),
    uniqueIndex('accounts_email_lower_key').on(sql`lower(${t.email})`),
    check('accounts_status_check', sql`${t.status} in ('active', 'suspended', 'closed')`),
  ],
);

/** An account's place in an organization, with its functions. */
export const memberships = pgTable(
  'memberships',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    functions: text('functions').array().notNull().default(sql`'{}'::text[]`),
    delegatedAdministrator: boolean('delegated_administrator').notNull().default(false),
    createdAt: instant('created_at').notNull(),
  },
  (t) => [primaryKey({ name: 'memberships_pkey', columns: [t.accountId, t.organizationId] }), index('memberships_organization_id_idx').on(t.organizationId)],
);

/** Failed-attempt accounting, one row per account that ever reserved an attempt. */
export const lockouts = pgTable('lockouts', {
  accountId: uuid('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  attempts: integer('attempts').notNull().default(0),
  windowStartedAt: instant('window_started_at').notNull(),
  lockedAt: instant('locked_at'),
  /** Last password check granted to a locked account (so the right password learns it is locked, rarely). */
  lockedCheckAt: instant('locked_check_at'),
  /**
   * When each counted failure (or reserved attempt) happened, newest last: the sliding window of
   * `LOCKOUT_WINDOW_SECONDS` counts the entries younger than the window (issue 8 §3).
   */
  failureTimes: instant('failure_times').array().notNull().default(sql`'{}'::timestamptz[]`),
  /** Failures since the last successful sign-in, whatever their timing (NIST SP 800-63B §5.2.2). */
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
});

/** Emailed one-time codes (SHA-256 hashes only). */
export const emailOtpChallenges = pgTable(
  'email_otp_challenges',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    bindingId: text('binding_id').notNull(),
    codeHash: text('code_hash').notNull(),
    createdAt: instant('created_at').notNull(),
    expiresAt: instant('expires_at').notNull(),
    consumedAt: instant('consumed_at'),
    /**
     * When its email was delivered (the outbox worker marked it sent). Of a sign-in's delivered codes only the
     * newest stays usable: delivering one consumes the older ones. Until then an earlier delivered code keeps working.
     */
    deliveredAt: instant('delivered_at'),
  },
  (t) => [index('email_otp_challenges_binding_idx').on(t.accountId, t.bindingId, t.createdAt), index('email_otp_challenges_expires_at_idx').on(t.expiresAt)],
);

/** The append-only audit log. No foreign keys: events outlive what they are about. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: uuid('id').primaryKey(),
    type: text('type').notNull(),
    occurredAt: instant('occurred_at').notNull(),
    accountId: uuid('account_id'),
    organizationId: uuid('organization_id'),
    actor: text('actor'),
    ip: text('ip'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    index('audit_events_occurred_at_idx').on(t.occurredAt),
    index('audit_events_account_id_idx').on(t.accountId, t.occurredAt),
    index('audit_events_organization_id_idx').on(t.organizationId, t.occurredAt),
    index('audit_events_type_idx').on(t.type, t.occurredAt),
  ],
);

/**
 * Every oidc-provider model (Session, Interaction, Grant, AuthorizationCode, RefreshToken, opaque
 * AccessToken, …) keyed by (kind, id). `grant_id`, `uid`, `user_code` and `account_id` are copied out of
 * the payload for lookups; `expires_at` is null for models saved without an expiry.
 */
export const oidcModels = pgTable(
  'oidc_models',
  {
    kind: text('kind').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    userCode: text('user_code'),
    uid: text('uid'),
    accountId: text('account_id'),
    expiresAt: instant('expires_at'),
    consumedAt: instant('consumed_at'),
  },
  (t) => [
    primaryKey({ name: 'oidc_models_pkey', columns: [t.kind, t.id] }),
    index('oidc_models_grant_id_idx').on(t.grantId),
    index('oidc_models_uid_idx').on(t.uid),
    index('oidc_models_user_code_idx').on(t.userCode),
    index('oidc_models_account_id_idx').on(t.accountId),
    index('oidc_models_expires_at_idx').on(t.expiresAt),
  ],
);

/** Tombstones of grants revoked by storage: tokens saved later for these grants are never found. */
export const oidcRevokedGrants = pgTable('oidc_revoked_grants', {
  grantId: text('grant_id').primaryKey(),
  revokedAt: instant('revoked_at').notNull(),
  expiresAt: instant('expires_at').notNull(),
});

/**
 * Registered relying parties. `client_secret` is sealed (lib/sealed-box) under the encryption key; null for a
 * client that authenticates without one (`none`, `private_key_jwt`).
 */
export const oidcClients = pgTable('oidc_clients', {
  clientId: text('client_id').primaryKey(),
  clientSecret: text('client_secret'),
  clientName: text('client_name'),
  redirectUris: text('redirect_uris').array().notNull(),
  postLogoutRedirectUris: text('post_logout_redirect_uris').array().notNull().default(sql`'{}'::text[]`),
  initiateLoginUri: text('initiate_login_uri'),
  /** OIDC Back-Channel Logout 1.0 `backchannel_logout_uri`; null when the client takes no logout tokens. */
  backchannelLogoutUri: text('backchannel_logout_uri'),
  firstParty: boolean('first_party').notNull().default(false),
  /**
   * A service client (OAuth 2.0 `client_credentials`, RFC 6749 §4.4) acts for this organization; null for a
   * client that signs people in. Its access tokens carry the organization and `service_functions`.
   */
  serviceOrganizationId: uuid('service_organization_id').references(() => organizations.id),
  /** The functions a service client's access tokens carry (policies/functions.ts names); empty for other clients. */
  serviceFunctions: text('service_functions').array().notNull().default(sql`'{}'::text[]`),
  /** Resource indicators (RFC 8707) this client is the resource server of: it may introspect tokens for them (RFC 7662). */
  servedResources: text('served_resources').array().notNull().default(sql`'{}'::text[]`),
  /**
   * How the client authenticates at the token endpoint (OIDC Registration §2): `client_secret_basic`,
   * `client_secret_post`, `private_key_jwt` (RFC 7523, with `jwks` or `jwks_uri`) or `none` (a public client:
   * single-page or native app, PKCE only). The last two hold no `client_secret`.
   */
  tokenEndpointAuthMethod: text('token_endpoint_auth_method').notNull().default('client_secret_basic'),
  /** The client's public keys (a JWK Set) for `private_key_jwt`; null when it has none or uses `jwks_uri`. */
  jwks: jsonb('jwks').$type<{ keys: Record<string, unknown>[] }>(),
  /** Where the client publishes its JWK Set for `private_key_jwt`; null otherwise. */
  jwksUri: text('jwks_uri'),
  /** A public client may get refresh tokens, only DPoP-bound ones (RFC 9449 §5); the operator's choice. Ignored for others. */
  allowRefresh: boolean('allow_refresh').notNull().default(false),
  createdAt: instant('created_at').notNull(),
});

/**
 * Token signing keys. `private_jwk` is the sealed private JWK; `retire_at` null means active. `sign_from` is when
 * the key may start signing: it is published from `created_at`, and `keys rotate` sets `sign_from` a publish-ahead
 * delay later (SIGNING_KEY_PUBLISH_AHEAD_SECONDS) so relying parties have fetched it first; `--now` sets it to now.
 */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').notNull(),
  privateJwk: text('private_jwk').notNull(),
  createdAt: instant('created_at').notNull(),
  signFrom: instant('sign_from').notNull(),
  retireAt: instant('retire_at'),
});

/**
 * Single-use links that set a password: a forgotten-password reset, or (admin console) a new account's first
 * password. Only the SHA-256 of the token is stored. A link is marked delivered once its email went out; then
 * only the newest delivered link of the account and purpose stays usable; `consumed_at` is set when used,
 * superseded or withdrawn.
 */
export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: ['reset', 'set_password'] }).notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: instant('created_at').notNull(),
    expiresAt: instant('expires_at').notNull(),
    consumedAt: instant('consumed_at'),
    /** When its email was delivered: of an account's delivered links of one purpose, only the newest stays usable. */
    deliveredAt: instant('delivered_at'),
  },
  (t) => [uniqueIndex('password_reset_tokens_token_hash_key').on(t.tokenHash), index('password_reset_tokens_account_id_idx').on(t.accountId)],
);

/**
 * Fixed-window counters shared by every instance, for rate limits such as password-reset requests per account
 * and per client IP. `key` names the limit and its subject, e.g. `password_reset:account:<uuid>`.
 */
export const rateLimitCounters = pgTable('rate_limit_counters', {
  key: text('key').primaryKey(),
  windowStartedAt: instant('window_started_at').notNull(),
  count: integer('count').notNull(),
});

/**
 * Counters of `rate-limiter-flexible`'s PostgreSQL store (its own table layout: `key`, `points`, `expire` in
 * epoch milliseconds), shared by every instance. Created here so that no instance runs DDL at start.
 */
export const rateLimiterPoints = pgTable('rate_limiter_points', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});

/**
 * The durable mail outbox: a row per message, written in the transaction of the code or link it carries and
 * delivered by a worker (`FOR UPDATE SKIP LOCKED`, so each message is sent once across instances). `message` is
 * the sealed (AES-256-GCM, `ENCRYPTION_KEY`) JSON of recipient, subject and bodies: it may hold a one-time code.
 * `reference` names what the message delivers (e.g. an email OTP challenge id), which counts as sent only once
 * `sent_at` is set.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: uuid('id').primaryKey(),
    purpose: text('purpose').notNull(),
    reference: text('reference'),
    accountId: uuid('account_id'),
    message: text('message').notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: instant('created_at').notNull(),
    nextAttemptAt: instant('next_attempt_at').notNull(),
    lockedUntil: instant('locked_until'),
    sentAt: instant('sent_at'),
    lastError: text('last_error'),
  },
  (t) => [
    index('mail_outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('mail_outbox_reference_idx').on(t.reference),
    check('mail_outbox_status_check', sql`${t.status} in ('pending', 'sent', 'failed')`),
  ],
);

/**
 * Authenticator app registrations (TOTP, RFC 6238). The secret is sealed with AES-256-GCM under
 * `ENCRYPTION_KEY` (lib/sealed-box). An account has at most one `confirmed` and one `pending` registration;
 * `last_used_step` is the RFC 6238 time step of the last accepted code (replay guard: only later steps pass).
 */
export const authenticatorRegistrations = pgTable(
  'authenticator_registrations',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['pending', 'confirmed'] }).notNull(),
    secretSealed: text('secret_sealed').notNull(),
    createdAt: instant('created_at').notNull(),
    confirmedAt: instant('confirmed_at'),
    lastUsedStep: bigint('last_used_step', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('authenticator_registrations_confirmed_key').on(t.accountId).where(sql`${t.status} = 'confirmed'`),
    uniqueIndex('authenticator_registrations_pending_key').on(t.accountId).where(sql`${t.status} = 'pending'`),
    check('authenticator_registrations_status_check', sql`${t.status} in ('pending', 'confirmed')`),
  ],
);

/**
 * Re-registration campaigns: from `effective_from`, accounts whose app was confirmed before `registered_before`
 * are asked at sign-in to register it again; "Skip this step" is offered until `skip_until` (null: no deadline,
 * skipping stays possible). Closed campaigns prompt nobody.
 */
export const reregistrationCampaigns = pgTable('reregistration_campaigns', {
  id: uuid('id').primaryKey(),
  registeredBefore: instant('registered_before').notNull(),
  effectiveFrom: instant('effective_from').notNull(),
  skipUntil: instant('skip_until'),
  createdAt: instant('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  closedAt: instant('closed_at'),
});

/** What each affected account did about a campaign: re-registered, or skipped (last time it skipped). */
export const campaignResponses = pgTable(
  'campaign_responses',
  {
    campaignId: uuid('campaign_id')
      .notNull()
      .references(() => reregistrationCampaigns.id, { onDelete: 'cascade' }),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    outcome: text('outcome', { enum: ['re_registered', 'skipped'] }).notNull(),
    respondedAt: instant('responded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.accountId] })],
);


/** Numbers of change request references (`UM_` + 8 digits); drawn at a request's first submission. */
export const changeRequestReferenceSeq = pgSequence('change_request_reference_seq', { startWith: 1, increment: 1 });

/**
 * Change requests (maker-checker). Every transition is one conditional `UPDATE … WHERE id = … AND status = …`
 * (identity/change-requests/stores.ts). `steps` is the append-only JSON list of the request's steps
 * (`{ action, status, actor, at, message }`); `version` increases on every edit of `payload`.
 * `account_id` is the account the change is about (no foreign key: set for a new account in the same
 * transaction that creates it).
 */
export const changeRequests = pgTable(
  'change_requests',
  {
    id: uuid('id').primaryKey(),
    reference: text('reference'),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    title: text('title').notNull(),
    status: text('status').notNull(),
    makerId: uuid('maker_id')
      .notNull()
      .references(() => accounts.id),
    checkerId: uuid('checker_id').references(() => accounts.id),
    accountId: uuid('account_id'),
    clonedFromId: uuid('cloned_from_id'),
    version: integer('version').notNull().default(1),
    steps: jsonb('steps').$type<Array<Record<string, unknown>>>().notNull().default(sql`'[]'::jsonb`),
    createdAt: instant('created_at').notNull(),
    updatedAt: instant('updated_at').notNull(),
    submittedAt: instant('submitted_at'),
    claimedAt: instant('claimed_at'),
    decidedAt: instant('decided_at'),
    completedAt: instant('completed_at'),
  },
  (t) => [
    uniqueIndex('change_requests_reference_key').on(t.reference),
    index('change_requests_organization_idx').on(t.organizationId, t.updatedAt),
    index('change_requests_maker_idx').on(t.makerId, t.updatedAt),
    index('change_requests_status_idx').on(t.status, t.updatedAt),
    check('change_requests_status_check', sql`${t.status} in ('draft', 'ready_for_checker', 'claimed', 'sent_to_operator', 'completed', 'rejected', 'discarded')`),
    check(
      'change_requests_type_check',
      sql`${t.type} in ('create_account', 'change_functions', 'suspend_account', 'reactivate_account', 'unlock_account', 'reset_second_factor', 'close_account', 'appoint_delegated_administrator', 'remove_delegated_administrator', 'register_sftp_key', 'remove_sftp_key', 'add_sftp_source_range', 'remove_sftp_source_range')`,
    ),
    check('change_requests_version_check', sql`${t.version} >= 1`),
  ],
);

/**
 * SSH public keys registered for ECP over SFTP (issue 14), for accounts holding `EU_ECPSFTP`; added and removed
 * only through maker-checker change requests. `fingerprint` is OpenSSH's `SHA256:<unpadded base64>` (as
 * `ssh-keygen -l` prints it); `public_key` the OpenSSH one-line form `<algorithm> <base64>` (no comment).
 * A key is usable while `removed_at` and `disabled_at` are null and `expires_at` is null or later:
 * `removed_at` is set by a completed removal request, `disabled_at` when the account loses `EU_ECPSFTP`.
 * At most one usable row per account and fingerprint.
 */
export const sftpKeys = pgTable(
  'sftp_keys',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** The SSH key type, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
    algorithm: text('algorithm').notNull(),
    /** Key size in bits (RSA modulus, ECDSA curve size, 256 for ed25519). */
    bits: integer('bits').notNull(),
    fingerprint: text('fingerprint').notNull(),
    publicKey: text('public_key').notNull(),
    /** The name the maker gave it (default: the key's comment). */
    comment: text('comment').notNull().default(''),
    addedAt: instant('added_at').notNull(),
    expiresAt: instant('expires_at'),
    lastUsedAt: instant('last_used_at'),
    /** Last source address the gateway saw it used from. */
    lastUsedIp: text('last_used_ip'),
    disabledAt: instant('disabled_at'),
    removedAt: instant('removed_at'),
    /** The change requests that added and removed it (no foreign key, like audit events). */
    addedByRequestId: uuid('added_by_request_id'),
    removedByRequestId: uuid('removed_by_request_id'),
  },
  (t) => [
    index('sftp_keys_account_id_idx').on(t.accountId),
    index('sftp_keys_fingerprint_idx').on(t.fingerprint),
    uniqueIndex('sftp_keys_account_fingerprint_key').on(t.accountId, t.fingerprint).where(sql`${t.removedAt} is null and ${t.disabledAt} is null`),
  ],
);

/**
 * Source addresses an account may connect to the SFTP gateway from (issue 14): IPv4 or IPv6 CIDR ranges in
 * canonical form (`203.0.113.0/24`, `127.0.0.1/32`, `2001:db8::/32`, `::1/128`); a single address is stored
 * as a /32 or /128. Added and removed through maker-checker; `removed_at` set by a completed removal.
 */
export const sftpSourceRanges = pgTable(
  'sftp_source_ranges',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    cidr: text('cidr').notNull(),
    comment: text('comment').notNull().default(''),
    addedAt: instant('added_at').notNull(),
    removedAt: instant('removed_at'),
    addedByRequestId: uuid('added_by_request_id'),
    removedByRequestId: uuid('removed_by_request_id'),
  },
  (t) => [index('sftp_source_ranges_account_id_idx').on(t.accountId), uniqueIndex('sftp_source_ranges_account_cidr_key').on(t.accountId, t.cidr).where(sql`${t.removedAt} is null`)],
);

/** `bytea`, read and written as a Uint8Array. */
const bytes = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => new Uint8Array(value),
});

/**
 * Passkeys (WebAuthn credentials, W3C WebAuthn Level 3 §6.1) registered on the account page. `credential_id` is
 * the credential's ID in base64url, unique across accounts; `public_key` its COSE public key; `counter` the last
 * signature counter seen (§6.1.1, clone detection). `aaguid` is recorded when the authenticator gave one (null
 * for none, or all zeroes); `device_type` is `singleDevice` or `multiDevice` and `backed_up` the backup state
 * flag (§6.3.3). A removed passkey keeps its row with `removed_at` set (audit), and never signs in again.
 */
export const webauthnCredentials = pgTable(
  'webauthn_credentials',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    credentialId: text('credential_id').notNull(),
    publicKey: bytes('public_key').notNull(),
    counter: bigint('counter', { mode: 'number' }).notNull(),
    transports: text('transports').array().notNull(),
    aaguid: uuid('aaguid'),
    deviceType: text('device_type', { enum: ['singleDevice', 'multiDevice'] }).notNull(),
    backedUp: boolean('backed_up').notNull(),
    name: text('name').notNull(),
    createdAt: instant('created_at').notNull(),
    lastUsedAt: instant('last_used_at'),
    removedAt: instant('removed_at'),
  },
  (t) => [
    uniqueIndex('webauthn_credentials_credential_id_key').on(t.credentialId),
    index('webauthn_credentials_account_id_idx').on(t.accountId),
    check('webauthn_credentials_device_type_check', sql`${t.deviceType} in ('singleDevice', 'multiDevice')`),
  ],
);

/**
 * WebAuthn challenges (§13.4.3) waiting for their ceremony: one per IdP session (registration) or interaction
 * (sign-in) and purpose, bound to the account signed in there (none for a passwordless sign-in), consumed (deleted)
 * by the first answer, refused after `expires_at`.
 */
export const webauthnChallenges = pgTable(
  'webauthn_challenges',
  {
    sessionUid: text('session_uid').notNull(),
    purpose: text('purpose', { enum: ['registration', 'authentication', 'passwordless'] }).notNull(),
    // Null for a passwordless sign-in: nobody is known until the credential answers.
    accountId: uuid('account_id').references(() => accounts.id, { onDelete: 'cascade' }),
    challenge: text('challenge').notNull(),
    expiresAt: instant('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionUid, t.purpose] }), index('webauthn_challenges_expires_at_idx').on(t.expiresAt)],
);

/**
 * The operator's phishing-resistant rules (issue 13 §4): whether delegated administrators must have a passkey,
 * for every organization (`scope` `every_organization`, `organization_id` null) or for one (`scope` its id).
 * `effective_from` starts the grace period of `grace_period_seconds`. No row: the policies/ default holds.
 */
export const phishingResistantRules = pgTable(
  'phishing_resistant_rules',
  {
    scope: text('scope').primaryKey(),
    organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
    required: boolean('required').notNull(),
    gracePeriodSeconds: integer('grace_period_seconds').notNull(),
    effectiveFrom: instant('effective_from').notNull(),
    updatedAt: instant('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [
    check('phishing_resistant_rules_scope_check', sql`(${t.organizationId} is null and ${t.scope} = 'every_organization') or ${t.scope} = ${t.organizationId}::text`),
    check('phishing_resistant_rules_grace_check', sql`${t.gracePeriodSeconds} >= 0`),
  ],
);
