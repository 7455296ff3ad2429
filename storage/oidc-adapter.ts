/**
 * The oidc-provider 9 adapter (its `adapter` option): one instance per model name. Every model but Client
 * lives in `oidc_models` (oidc-models.ts); Client is read from `oidc_clients` (client-store.ts).
 *
 * `consume` is where single use is enforced (design/security.md §1). oidc-provider checks `consumed` on the
 * model it loaded and then calls `consume`, ignoring the result, so N concurrent token requests with one code
 * can all pass its check. The UPDATE here is conditional; every caller but one finds nothing to update, and
 * then the grant is revoked with a tombstone (tokens the winner saves afterwards are never found) and
 * `errors.InvalidGrant` is thrown, which oidc-provider answers with 400 `invalid_grant`.
 *
 * Codes, tokens, session ids and user codes are stored as keyed hashes, without their plain value in the
 * payload (oidc-model-secrets.ts): what oidc-provider passes in is hashed here, and what it reads back is the
 * payload it saved.
 */
// @ts-ignore -- oidc-provider ships no type declarations; only `errors.InvalidGrant` is used, typed below.
import * as oidcProvider from 'oidc-provider';
import { eq, inArray, type SQL } from 'drizzle-orm';
import { systemClock, type Clock, type SealingKeys } from '../lib/index.js';
import { createClientStore, type ClientRecord } from './client-store.js';
import { isHttpsUri } from './client-uris.js';
import type { Database } from './database.js';
import { REVOKED_GRANT_RETENTION_SECONDS, revokeGrantOn } from './oidc-grant-revocation.js';
import { createModelSecrets } from './oidc-model-secrets.js';
import { consumeModel, destroyByGrantId, destroyModel, findModel, idIn, rekeyModel, upsertModel, type OidcPayload } from './oidc-models.js';
import { oidcModels } from './schema.js';

const { InvalidGrant } = (oidcProvider as unknown as { errors: { InvalidGrant: new (detail?: string) => Error } }).errors;

/** Options of {@link createOidcAdapter}. */
export interface OidcAdapterOptions {
  /**
   * Unseals client secrets (the key the client store sealed them with, or current + previous keys during a
   * rotation) and derives the key that hashes model ids (HKDF, oidc-model-secrets.ts).
   */
  encryptionKey: Buffer | SealingKeys;
  /** Source of `now` for expiry (default: the wall clock). */
  clock?: Clock;
  /** Minimum life of a revoked grant's tombstone, in seconds (default 14 days; keep ≥ the longest token TTL). */
  revokedGrantRetentionSeconds?: number;
}

/** The methods oidc-provider calls on an adapter instance. Payloads are plain JSON; `expiresIn` is seconds. */
export interface OidcAdapter {
  upsert(id: string, payload: OidcPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<OidcPayload | undefined>;
  findByUid(uid: string): Promise<OidcPayload | undefined>;
  findByUserCode(userCode: string): Promise<OidcPayload | undefined>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
  consume(id: string): Promise<void>;
}

/**
 * How the client authenticates (OIDC Registration §2): its secret for `client_secret_basic`/`_post`, its public
 * keys (`jwks` or `jwks_uri`) for `private_key_jwt` (RFC 7523), nothing for a public client (`none`).
 */
function authenticationMetadata(client: ClientRecord): Record<string, unknown> {
  const method = client.tokenEndpointAuthMethod;
  if (method === 'none') return { token_endpoint_auth_method: method };
  if (method === 'private_key_jwt') return { token_endpoint_auth_method: method, ...(client.jwksUri ? { jwks_uri: client.jwksUri } : { jwks: client.jwks }) };
  return { token_endpoint_auth_method: method, client_secret: client.clientSecret };
}

/**
 * oidc-provider client metadata of a registered client: its token endpoint authentication, code flow with refresh
 * tokens (a public client only when allowed), and `first_party` (declared by idp/ as extra client metadata); a service client gets only
 * `client_credentials` with `service_organization` and `service_functions`; `served_resources` when set. `initiate_login_uri` is passed only
 * when https, as oidc-provider rejects the whole client otherwise (OIDC Core §4). A `backchannel_logout_uri`
 * comes with `backchannel_logout_session_required: true`, so ID tokens and RP-initiated logout tokens carry
 * `sid` (OIDC Back-Channel Logout 1.0 §2.2, §2.4).
 */
export function clientMetadata(client: ClientRecord): Record<string, unknown> {
  const served = client.servedResources.length ? { served_resources: client.servedResources } : {};
  if (client.service) {
    // A service client (RFC 6749 §4.4): client_credentials only, no redirect URIs, acting for its organization.
    return {
      client_id: client.clientId,
      ...authenticationMetadata(client),
      ...(client.clientName ? { client_name: client.clientName } : {}),
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      first_party: false,
      service_organization: client.service.organizationId,
      service_functions: client.service.functions,
      ...served,
    };
  }
  const isPublic = client.tokenEndpointAuthMethod === 'none';
  return {
    client_id: client.clientId,
    ...authenticationMetadata(client),
    ...(client.clientName ? { client_name: client.clientName } : {}),
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    ...(client.initiateLoginUri && isHttpsUri(client.initiateLoginUri) ? { initiate_login_uri: client.initiateLoginUri } : {}),
    ...(client.backchannelLogoutUri ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    // A public client gets refresh tokens only when the operator allowed it (and then only DPoP-bound, idp/grants.ts).
    grant_types: isPublic && !client.allowRefresh ? ['authorization_code'] : ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    first_party: client.firstParty,
    ...served,
  };
}

const LABELS: Record<string, string> = { AuthorizationCode: 'authorization code', RefreshToken: 'refresh token', DeviceCode: 'device code' };

/**
 * Creates the adapter class for oidc-provider's `adapter` option.
 * @example new Provider(issuer, { adapter: createOidcAdapter(database, { encryptionKey: config.encryptionKey }), … })
 * @throws (from `consume`) oidc-provider's `errors.InvalidGrant` when the model was already consumed or is gone.
 * @throws (from Client `upsert`/`destroy`) Error: clients are managed through the client store.
 */
export function createOidcAdapter(database: Database, options: OidcAdapterOptions): new (model: string) => OidcAdapter {
  const { db } = database;
  const clock = options.clock ?? systemClock;
  const clients = createClientStore(database, options.encryptionKey);
  const retention = options.revokedGrantRetentionSeconds ?? REVOKED_GRANT_RETENTION_SECONDS;
  const secrets = createModelSecrets(options.encryptionKey);

  /** Finds the `model` row matching `where`, gives back the payload oidc-provider saved, and re-keys a row found under a previous key. */
  async function findRestored(model: string, where: SQL, known: { id?: string; userCode?: string }): Promise<OidcPayload | undefined> {
    const preferredId = known.id === undefined ? undefined : secrets.idsOf(model, known.id)[0];
    const row = await findModel(db, model, where, clock.now(), preferredId);
    if (!row) return undefined;
    const { payload, id } = secrets.restore(model, row.id, row.payload, known);
    const currentId = id === undefined ? undefined : secrets.idsOf(model, id)[0];
    if (currentId !== undefined && currentId !== row.id) await rekeyModel(db, model, row.id, currentId);
    return payload;
  }

  return class PostgresOidcAdapter implements OidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: OidcPayload, expiresIn?: number) {
      if (this.model === 'Client') throw new Error('clients are registered through the client store, not oidc-provider');
      await upsertModel(db, this.model, secrets.toStored(this.model, id, payload), expiresIn, clock.now());
    }

    async find(id: string) {
      if (this.model === 'Client') {
        const client = await clients.find(id);
        return client ? clientMetadata(client) : undefined;
      }
      return findRestored(this.model, idIn(secrets.idsOf(this.model, id)), { id });
    }

    findByUid(uid: string) {
      return findRestored(this.model, eq(oidcModels.uid, uid), {});
    }

    findByUserCode(userCode: string) {
      return findRestored(this.model, inArray(oidcModels.userCode, secrets.userCodesOf(userCode)), { userCode });
    }

    async destroy(id: string) {
      if (this.model === 'Client') throw new Error('clients are removed through the client store, not oidc-provider');
      await destroyModel(db, this.model, secrets.idsOf(this.model, id));
    }

    revokeByGrantId(grantId: string) {
      return destroyByGrantId(db, grantId);
    }

    async consume(id: string) {
      const now = clock.now();
      const result = await consumeModel(db, this.model, secrets.idsOf(this.model, id), now);
      if (result.consumed) return;
      if (result.grantId) await revokeGrantOn(db, result.grantId, now, retention);
      // `reason` lets the provider's listeners tell a lost race from other refusals (a reused refresh token).
      throw Object.assign(new InvalidGrant(`${LABELS[this.model] ?? this.model} already used`), { reason: 'already_consumed' });
    }
  };
}
