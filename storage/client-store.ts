/**
 * Registered OIDC clients (downstream applications) in `oidc_clients`. Secrets are sealed at rest with
 * lib/sealed-box (AES-256-GCM) because oidc-provider compares the plaintext for `client_secret_basic`.
 */
import { asc, eq } from 'drizzle-orm';
import { asSealingKeys, DomainError, openWithAnyKey, randomToken, seal, validationError, type FieldErrors, type SealingKeys } from '../lib/index.js';
import { clientAuthenticationProblems, type ClientAuthMethod, type PublicJwks } from './client-authentication.js';
import { uriProblems } from './client-uris.js';
import type { Database } from './database.js';
import { foreignKeyViolation, isUuid, uniqueViolation } from './postgres-errors.js';
import { oidcClients } from './schema.js';

/** A registered client, without its secret. Optional metadata is null when not set. */
export interface ClientSummary {
  clientId: string;
  clientName: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  initiateLoginUri: string | null;
  /** Where the IdP posts logout tokens (OIDC Back-Channel Logout 1.0 §2.2); null when not registered. */
  backchannelLogoutUri: string | null;
  /** Trusted application of the operator: consent is implied (idp `first_party` client metadata). */
  firstParty: boolean;
  /** A service client (`client_credentials`, RFC 6749 §4.4): the organization it acts for and its functions; null otherwise. */
  service: ServiceGrant | null;
  /** Resource indicators (RFC 8707) this client is the resource server of; it may introspect their tokens (RFC 7662). */
  servedResources: string[];
  /** How it authenticates at the token endpoint; `none` is a public client (PKCE only), `private_key_jwt` RFC 7523. */
  tokenEndpointAuthMethod: ClientAuthMethod;
  /** Its public keys for `private_key_jwt`, inline or by URL; null otherwise. */
  jwks: PublicJwks | null;
  jwksUri: string | null;
  /** A public client the operator allows DPoP-bound refresh tokens (RFC 9449 §5); false for every other client. */
  allowRefresh: boolean;
  createdAt: Date;
}

/** What a service client acts as: an organization (its id) and the functions its access tokens carry. */
export interface ServiceGrant {
  organizationId: string;
  /** Function names, validated against the catalogue (policies/functions.ts) by the caller; at least one. */
  functions: string[];
}

/** A registered client with its plaintext secret; null for `none` and `private_key_jwt`, which use none. */
export interface ClientRecord<Secret extends string | null = string | null> extends ClientSummary {
  clientSecret: Secret;
}

/**
 * The secret a registration of `C` comes back with: a string when `C` names no method or a `client_secret_*` one,
 * otherwise possibly null (none for `none` and `private_key_jwt`).
 */
export type SecretOf<C extends NewClient> = 'tokenEndpointAuthMethod' extends keyof C
  ? [Exclude<C['tokenEndpointAuthMethod'], undefined | 'client_secret_basic' | 'client_secret_post'>] extends [never] ? string : string | null
  : string;

/** What {@link ClientStore.create} takes. URIs: https, or http on a loopback host; no fragments. */
export interface NewClient {
  /** 3–100 letters, digits, `.`, `_`, `-`, `:`. */
  clientId: string;
  /** At least 32 characters; generated (256 bits) when omitted. Only for the `client_secret_*` methods. */
  clientSecret?: string | undefined;
  clientName?: string | undefined;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  initiateLoginUri?: string | undefined;
  /** `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0 §2.2), validated like a redirect URI. */
  backchannelLogoutUri?: string | undefined;
  firstParty: boolean;
  /**
   * Registers a service client instead (machine to machine, `client_credentials` only): it has no redirect
   * URIs, signs nobody in and acts for this organization, which must exist.
   */
  service?: ServiceGrant | undefined;
  /** Resource indicators (absolute URIs, RFC 8707 §2) the client is the resource server of. */
  servedResources?: string[] | undefined;
  /** Default `client_secret_basic`. `none`: a public client (single-page or native app), not for a service client. */
  tokenEndpointAuthMethod?: ClientAuthMethod | undefined;
  /** With `private_key_jwt`, exactly one: a JWK Set of public keys, or an https URL serving one. */
  jwks?: PublicJwks | undefined;
  jwksUri?: string | undefined;
  /** With `none`: the client may get refresh tokens, only DPoP-bound ones. */
  allowRefresh?: boolean | undefined;
}

/** Options of {@link createClientStore}. */
export interface ClientStoreOptions {
  /** Development mode: a `jwks_uri` may be plain http. Default false (https only). */
  development?: boolean;
}

/** Clients, as the operator registers them. */
export interface ClientStore {
  /**
   * Registers a client; returns it with its secret (the only time the caller sees a generated one).
   * @param now - creation time (default: the current time).
   * @throws DomainError `validation_failed` (fieldErrors clientId, clientSecret, redirectUris,
   *   postLogoutRedirectUris, initiateLoginUri, backchannelLogoutUri, organization, functions, servedResources,
   *   tokenEndpointAuthMethod, jwks, jwksUri, allowRefresh),
   *   `conflict` when the client ID is taken.
   */
  create<C extends NewClient>(client: C, now?: Date): Promise<ClientRecord<SecretOf<C>>>;
  /**
   * Registers the client unless its client ID is taken, in one `INSERT … ON CONFLICT DO NOTHING`, and returns the
   * stored client: so N instances starting together all get the same registration and secret, none an error.
   * An existing client is returned as it is (its URIs are not updated).
   * @throws DomainError `validation_failed` as {@link create}.
   */
  ensure<C extends NewClient>(client: C, now?: Date): Promise<ClientRecord<SecretOf<C>>>;
  /** The client with its plaintext secret; null when unknown. @throws Error when the secret cannot be unsealed (another encryption key). */
  find(clientId: string): Promise<ClientRecord | null>;
  /** Every client by client ID, without secrets. */
  list(): Promise<ClientSummary[]>;
}


/**
 * How long, in seconds, {@link createClientLookup} keeps a client by default. A client written through a store
 * of this process is seen at once; a change made by another instance or the CLI is seen within this bound.
 */
export const CLIENT_CACHE_SECONDS = 5;

/** Per database: writes of clients through the stores of this process, so lookups drop what they read before. */
const clientWrites = new WeakMap<object, number>();
const noteClientWrite = (database: Database) => clientWrites.set(database.db, (clientWrites.get(database.db) ?? 0) + 1);

/** Options of {@link createClientLookup}. */
export interface ClientLookupOptions {
  /** How long a found client is kept, in seconds (default {@link CLIENT_CACHE_SECONDS}; 0 turns the cache off). */
  ttlSeconds?: number;
  /** Most clients kept at once (default 1000); the oldest goes first. */
  maxEntries?: number;
  /** Milliseconds of a monotonic clock (default `performance.now`). */
  nowMs?: () => number;
}

/**
 * A cached {@link ClientStore.find} for the token, userinfo and authorization endpoints, which read the calling
 * client on every request (issue 10 §3). A found client is kept `ttlSeconds`; an unknown one is never kept, so a
 * client registered anywhere is found at once. Every write through a client store of this process on the same
 * database empties the cache; another instance or the CLI changing a client is seen within `ttlSeconds`. Only
 * client metadata is kept — nothing about accounts, whose status and functions are read on every request.
 * @throws as {@link ClientStore.find}.
 */
export function createClientLookup(database: Database, keys: Buffer | SealingKeys, options: ClientLookupOptions = {}): (clientId: string) => Promise<ClientRecord | null> {
  const store = createClientStore(database, keys);
  const ttlMs = (options.ttlSeconds ?? CLIENT_CACHE_SECONDS) * 1000;
  const maxEntries = options.maxEntries ?? 1000;
  const nowMs = options.nowMs ?? (() => performance.now());
  const kept = new Map<string, { found: Promise<ClientRecord | null>; at: number }>();
  let seenWrites = clientWrites.get(database.db) ?? 0;
  return (clientId) => {
    if (ttlMs <= 0) return store.find(clientId);
    const writes = clientWrites.get(database.db) ?? 0;
    if (writes !== seenWrites) {
      kept.clear();
      seenWrites = writes;
    }
    const now = nowMs();
    const entry = kept.get(clientId);
    if (entry && now - entry.at < ttlMs) return entry.found;
    kept.delete(clientId);
    if (kept.size >= maxEntries) kept.delete(kept.keys().next().value!);
    const found = store.find(clientId);
    const mine = { found, at: now };
    kept.set(clientId, mine);
    const forget = () => kept.get(clientId) === mine && kept.delete(clientId);
    found.then((client) => client ?? forget(), forget);
    return found;
  };
}

/** Field errors of a service registration: no redirect URIs, at least one function, distinct. */
function serviceProblems(client: NewClient, service: ServiceGrant, errors: FieldErrors): void {
  if (client.redirectUris.length || client.postLogoutRedirectUris.length || client.initiateLoginUri || client.backchannelLogoutUri) {
    errors.redirectUris = ['A service client signs nobody in: it has no redirect, logout or login URIs.'];
  }
  if (!isUuid(service.organizationId)) errors.organization = ['Give the organization the service client acts for.'];
  if (service.functions.length === 0) errors.functions = ['Give at least one function.'];
  else if (new Set(service.functions).size !== service.functions.length) errors.functions = ['Each function once.'];
}

function validate(client: NewClient, development: boolean): FieldErrors {
  const errors: FieldErrors = {};
  const tokenEndpointAuthMethod = client.tokenEndpointAuthMethod ?? 'client_secret_basic';
  clientAuthenticationProblems({ ...client, tokenEndpointAuthMethod, service: client.service !== undefined }, development, errors);
  if (!/^[A-Za-z0-9._:-]{3,100}$/.test(client.clientId)) errors.clientId = ['A client ID is 3–100 letters, digits, dots, dashes, underscores or colons.'];
  // Account ids are UUIDs; a client ID (the `sub` of its service tokens, RFC 9068 §2.2) never looks like one.
  else if (isUuid(client.clientId)) errors.clientId = ['A client ID cannot have the form of a UUID: account ids do.'];
  if (client.clientSecret !== undefined && !usesSecret(tokenEndpointAuthMethod)) errors.clientSecret = ['A public or private_key_jwt client has no client secret.'];
  else if (client.clientSecret !== undefined && client.clientSecret.length < 32) errors.clientSecret = ['A client secret has at least 32 characters.'];
  const served = (client.servedResources ?? []).filter((r) => !URL.canParse(r) || r.includes('#'));
  if (served.length) errors.servedResources = served.map((r) => `"${r}" is not an absolute URI without a fragment.`);
  if (client.service) {
    serviceProblems(client, client.service, errors);
    return errors;
  }
  const redirect = client.redirectUris.length === 0 ? ['Give at least one redirect URI.'] : uriProblems(client.redirectUris);
  if (redirect.length) errors.redirectUris = redirect;
  const postLogout = uriProblems(client.postLogoutRedirectUris);
  if (postLogout.length) errors.postLogoutRedirectUris = postLogout;
  const initiate = client.initiateLoginUri ? uriProblems([client.initiateLoginUri]) : [];
  if (initiate.length) errors.initiateLoginUri = initiate;
  const backchannel = client.backchannelLogoutUri ? uriProblems([client.backchannelLogoutUri]) : [];
  if (backchannel.length) errors.backchannelLogoutUri = backchannel;
  return errors;
}

/** True for the methods that authenticate with a client secret (`client_secret_basic`, `client_secret_post`). */
export function usesSecret(method: ClientAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

/** The context a client secret is sealed for (AES-GCM associated data): its client, so a copied secret does not open. */
export function clientSecretContext(clientId: string): string {
  return `oidc_clients:${clientId}`;
}

/**
 * Creates the client store. Secrets are sealed under `keys.current` (or the one key given) and opened with it or
 * any previous key (ENCRYPTION_KEY rotation, docs/authenticator.md).
 */
export function createClientStore(database: Database, keys: Buffer | SealingKeys, options: ClientStoreOptions = {}): ClientStore {
  const sealing = asSealingKeys(keys);
  const { db } = database;
  const summary = ({ clientSecret: _sealed, serviceOrganizationId, serviceFunctions, tokenEndpointAuthMethod, ...row }: typeof oidcClients.$inferSelect): ClientSummary => ({
    ...row,
    tokenEndpointAuthMethod: tokenEndpointAuthMethod as ClientAuthMethod,
    service: serviceOrganizationId ? { organizationId: serviceOrganizationId, functions: serviceFunctions } : null,
  });
  /** The validated row to insert for `client`, with its plaintext secret. @throws DomainError `validation_failed`. */
  const rowOf = (client: NewClient, now: Date) => {
    const fieldErrors = validate(client, options.development ?? false);
    if (Object.keys(fieldErrors).length) throw validationError(fieldErrors, 'The client is not valid.');
    const clientSecret = usesSecret(client.tokenEndpointAuthMethod ?? 'client_secret_basic') ? (client.clientSecret ?? randomToken(32)) : null;
    const row = {
      clientId: client.clientId,
      clientSecret: clientSecret === null ? null : seal(clientSecret, sealing.current, clientSecretContext(client.clientId)),
      clientName: client.clientName ?? null,
      redirectUris: client.redirectUris,
      postLogoutRedirectUris: client.postLogoutRedirectUris,
      initiateLoginUri: client.initiateLoginUri ?? null,
      backchannelLogoutUri: client.backchannelLogoutUri ?? null,
      firstParty: client.service ? false : client.firstParty,
      serviceOrganizationId: client.service?.organizationId ?? null,
      serviceFunctions: client.service?.functions ?? [],
      servedResources: client.servedResources ?? [],
      tokenEndpointAuthMethod: client.tokenEndpointAuthMethod ?? 'client_secret_basic',
      jwks: client.jwks ?? null,
      jwksUri: client.jwksUri ?? null,
      allowRefresh: client.allowRefresh ?? false,
      createdAt: now,
    };
    return { row, clientSecret };
  };
  const find = async (clientId: string): Promise<ClientRecord | null> => {
    const [row] = await db.select().from(oidcClients).where(eq(oidcClients.clientId, clientId)).limit(1);
    return row ? { ...summary(row), clientSecret: row.clientSecret === null ? null : openWithAnyKey(row.clientSecret, sealing, clientSecretContext(row.clientId)) } : null;
  };
  return {
    async create(client, now = new Date()) {
      const { row, clientSecret } = rowOf(client, now);
      try {
        await db.insert(oidcClients).values(row);
        noteClientWrite(database);
      } catch (error) {
        if (foreignKeyViolation(error)) throw validationError({ organization: ['No such organization.'] }, 'The client is not valid.');
        if (uniqueViolation(error) === null) throw error;
        throw new DomainError('conflict', `A client with ID "${client.clientId}" already exists.`, { fieldErrors: { clientId: ['This client ID is already registered.'] } });
      }
      return { ...summary(row), clientSecret } as ClientRecord<SecretOf<typeof client>>; // null exactly when the method has no secret
    },

    async ensure(client, now = new Date()) {
      const { row } = rowOf(client, now);
      await db.insert(oidcClients).values(row).onConflictDoNothing({ target: oidcClients.clientId });
      noteClientWrite(database);
      const stored = await find(client.clientId);
      if (!stored) throw new Error(`client ${client.clientId} vanished right after being registered`);
      return stored as ClientRecord<SecretOf<typeof client>>;
    },

    find,

    async list() {
      return (await db.select().from(oidcClients).orderBy(asc(oidcClients.clientId))).map(summary);
    },
  };
}
