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
 * Round trips (issue 10 §3), within one oidc-provider request (its `ctx`, from oidc-provider's own
 * `Provider.ctx`; nothing is kept past the request):
 * - A code or token is read together with its Grant in one statement; oidc-provider's `Grant.find` of that grant
 *   in the same request is then answered from that read, once (oidc-models.ts `findModelById`). So is the
 *   Session of a code or token that expires with it (`expiresWithSession`), which oidc-provider's
 *   `checkSessionBinding` loads by uid right after the code or token; a Session saved or deleted in the request
 *   drops what was read.
 * - A refresh token's or an authorization code's `consume` at the token endpoint is held back with the tokens
 *   the request saves after it (the rotated refresh token, the access token, a refresh token), and all are carried
 *   out in one statement once the answer is ready, before it leaves ({@link OidcAdapterClass.settleRequest}, a
 *   middleware of idp/): the code or old token is marked consumed and the new tokens inserted only if this
 *   statement consumed it, so of two requests racing with one code or token exactly one gets tokens, and the
 *   loser's answer becomes `InvalidGrant` (`already_consumed`), with the grant revoked. A request answered with an
 *   error consumes nothing and saves nothing (nothing was issued). With nothing to save (a JWT access token,
 *   RFC 9068, and no refresh token) the consume goes alone. A request not announced by `beginRequest` (an adapter
 *   used without that middleware) consumes and saves at once, one statement each.
 * - A resumed authorization request (`/auth/:uid`), or one at `/auth` in an existing session (SSO), whose Session
 *   will be saved when it ends holds back its writes
 *   — the interaction's deletion, the Grant, the authorization code, the acting organization — and carries them out
 *   in one statement with that Session's save, which oidc-provider's session middleware does before the response
 *   leaves (inside its error handler, so a failure is answered as any other). The statement saves only if it
 *   deleted the interaction: of two requests resuming one interaction on any instances, the second gets
 *   `SessionNotFound` and saves nothing (before, both could issue a code). Any other adapter call in the request
 *   carries out the held-back writes first, so the request reads what it wrote.
 * - The account a code, token, Session or finished Interaction is about is read in its statement when the
 *   request will load it next (oidc-provider's `findAccount`), and handed to that request's `findView` (once;
 *   account-store.ts `shareAccountView`): fresh in every request, so a suspension is seen at the next one.
 * - Clients are kept a few seconds (client-store.ts `createClientLookup`).
 *
 * Codes, tokens, session ids and user codes are stored as keyed hashes, without their plain value in the
 * payload (oidc-model-secrets.ts): what oidc-provider passes in is hashed here, and what it reads back is the
 * payload it saved.
 */
import { createRequire } from 'node:module';
import { eq, inArray, type SQL } from 'drizzle-orm';
import { systemClock, type Clock, type SealingKeys } from '../lib/index.js';
import { shareAccountView } from './account-store.js';
import { CLIENT_CACHE_SECONDS, createClientLookup, type ClientRecord } from './client-store.js';
import { isHttpsUri } from './client-uris.js';
import type { Database } from './database.js';
import { REVOKED_GRANT_RETENTION_SECONDS, revokeGrantOn } from './oidc-grant-revocation.js';
import { createModelSecrets } from './oidc-model-secrets.js';
import { consumeAndSaveModels, consumeModel, destroyByGrantId, destroyModel, findModel, findModelById, rekeyModel, saveModels, upsertModel, type FoundModel, type ModelToSave, type OidcPayload } from './oidc-models.js';
import { oidcModels } from './schema.js';

/** What the adapter uses of oidc-provider (it ships no type declarations). */
interface OidcProviderModule {
  errors: { InvalidGrant: new (detail?: string) => Error; SessionNotFound: new (detail?: string) => Error };
  Provider: { ctx: object | undefined };
}
let loaded: OidcProviderModule | undefined;
/**
 * oidc-provider, loaded on first use (require of its ES module, Node >= 20.19): processes that import storage but
 * never run the IdP — the operator CLI — never load it, nor print its "Unsupported runtime" warning on Node 20.
 */
function oidcProvider(): OidcProviderModule {
  return (loaded ??= createRequire(import.meta.url)('oidc-provider') as OidcProviderModule);
}

/** What the adapter keeps for one request (oidc-provider's `ctx`). */
interface RequestState {
  /** Grants read with a code or token, by grant id: the payload, or null when it was not found. */
  grants: Map<string, OidcPayload | null>;
  /** Sessions read with a session-bound code or token, by session uid: the row, or null when it was not found. */
  sessions: Map<string, FoundModel | null>;
  /**
   * A refresh token's or code's consume at the token endpoint, with the tokens the request saves after it (held
   * back): carried out in one statement by `settleRequest` when the answer is ready, or before a deletion or
   * another consume in the request.
   */
  pendingConsume?: { kind: string; ids: string[]; saves: ModelToSave[] };
  /** The request will be settled (`beginRequest` was called for it): only then are consume and saves held back. */
  settles?: boolean;
  /** Writes of a resumed authorization request, carried out with its Session's save (see the module comment). */
  pending?: PendingWrites;
}

/** Writes held back until the request's Session is saved: models to save by kind and row id, one row to delete. */
interface PendingWrites {
  saves: Map<string, ModelToSave>;
  destroy?: { kind: string; ids: string[] };
}

/** What the adapter reads of oidc-provider's request context (`ctx.oidc`) to know whether its Session will be saved. */
interface ProviderRequest {
  oidc?: {
    route?: string;
    session?: { new?: boolean; touched?: boolean; destroyed?: boolean };
    entities?: { Interaction?: { result?: { login?: unknown; error?: unknown } } };
  };
}

/** Options of {@link createOidcAdapter}. */
export interface OidcAdapterOptions {
  /**
   * Unseals client secrets (the key the client store sealed them with, or current + previous keys during a
   * rotation) and derives the key that hashes model ids (HKDF, oidc-model-secrets.ts).
   */
  encryptionKey: Buffer | SealingKeys;
  /** Source of `now` for expiry (default: the wall clock). */
  clock?: Clock;
  /**
   * How long a client read from `oidc_clients` is kept, in seconds (default {@link CLIENT_CACHE_SECONDS}; 0: read it
   * on every request). Clients written in this process are seen at once, others within this bound (client-store.ts).
   */
  clientCacheSeconds?: number;
  /**
   * The current oidc-provider request (its Koa `ctx`), or undefined outside one; default oidc-provider's own
   * `Provider.ctx` (its AsyncLocalStorage). What the adapter reuses within a request is keyed by it.
   */
  requestContext?: () => object | undefined;
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

/** The adapter class {@link createOidcAdapter} returns: oidc-provider's `adapter` option, and one hook for idp/. */
export interface OidcAdapterClass {
  new (model: string): OidcAdapter;
  /**
   * Carries out what request `ctx` (oidc-provider's Koa context) still holds back once its answer is ready: the
   * consume of a code or refresh token with the tokens saved after it, in one statement (see the module comment).
   * With `succeeded` false (the request is answered with an error) it is dropped instead: nothing was issued, so
   * nothing is consumed or saved.
   * @throws oidc-provider's `errors.InvalidGrant` (`already_consumed`) when another request consumed it first;
   *   its grant is revoked. Database errors as any query's.
   */
  settleRequest(ctx: object, succeeded: boolean): Promise<void>;
  /**
   * Announces that request `ctx` will be settled with {@link settleRequest} once its answer is ready: only such a
   * request has its token-endpoint writes held back; without it each consume and save is carried out at once.
   */
  beginRequest(ctx: object): void;
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
export function createOidcAdapter(database: Database, options: OidcAdapterOptions): OidcAdapterClass {
  const { db } = database;
  const clock = options.clock ?? systemClock;
  const findClient = createClientLookup(database, options.encryptionKey, { ttlSeconds: options.clientCacheSeconds ?? CLIENT_CACHE_SECONDS });
  const retention = options.revokedGrantRetentionSeconds ?? REVOKED_GRANT_RETENTION_SECONDS;
  const secrets = createModelSecrets(options.encryptionKey);

  const requestContext = options.requestContext ?? (() => oidcProvider().Provider.ctx);
  const requests = new WeakMap<object, RequestState>();
  /** The state of the current request, created when `create`; undefined outside a request. */
  function requestState(create: boolean): RequestState | undefined {
    const ctx = requestContext();
    if (!ctx) return undefined;
    let state = requests.get(ctx);
    if (!state && create) requests.set(ctx, (state = { grants: new Map(), sessions: new Map() }));
    return state;
  }
  const routeOf = () => (requestContext() as ProviderRequest | undefined)?.oidc?.route;

  /**
   * True when this request is an authorization request (`/auth`, or resumed: `/auth/:uid`) whose Session
   * oidc-provider will save when the request ends: its session middleware saves a session that is not new or was
   * changed (a Session deleted meanwhile carries out the held-back writes first), and resuming a finished login
   * (a result with `login`, no `error`) logs the account into it right after deleting the interaction, with
   * nothing awaited in between (oidc-provider 9 `lib/actions/authorization/resume.js`). At `/auth` that is SSO:
   * the Grant, the code and the Session of a second client's sign-in go in one statement.
   */
  function sessionSavedAtEnd(): boolean {
    const oidc = (requestContext() as ProviderRequest | undefined)?.oidc;
    if (oidc?.route !== 'resume' && oidc?.route !== 'authorization') return false;
    const session = oidc.session;
    if (!session || session.destroyed) return false;
    if (!session.new || session.touched) return true;
    const result = oidc.route === 'resume' ? oidc.entities?.Interaction?.result : undefined;
    return Boolean(result?.login) && !result?.error;
  }

  /**
   * Whether the account a `model` found by id is about is read with it: the request goes on to oidc-provider's
   * `findAccount` of that account — at the token, userinfo and introspection endpoints for a code or token, at
   * the authorization endpoint for the Session, at resume for the Session and the finished Interaction.
   */
  function readsAccountWith(model: string): boolean {
    if (model === 'AuthorizationCode' || model === 'AccessToken' || model === 'RefreshToken') return requestContext() !== undefined;
    const route = routeOf();
    if (model === 'Session') return route === 'authorization' || route === 'resume';
    return model === 'Interaction' && route === 'resume';
  }

  /** The held-back writes of this request, created when `create`. */
  function pendingWrites(create: boolean): PendingWrites | undefined {
    const state = requestState(create);
    if (state && !state.pending && create) state.pending = { saves: new Map() };
    return state?.pending;
  }

  /**
   * Carries out this request's held-back writes (with `session`, the Session being saved) in one statement.
   * @throws oidc-provider's `SessionNotFound` when the interaction to delete was gone: another request resumed it.
   */
  async function flush(session?: ModelToSave): Promise<void> {
    const state = requestState(false);
    const pending = state?.pending;
    if (!pending && !session) return;
    if (state) state.pending = undefined;
    const models = [...(pending?.saves.values() ?? [])];
    if (session) models.push(session);
    const { saved } = await saveModels(db, models, pending?.destroy);
    if (!saved) throw new (oidcProvider().errors.SessionNotFound)('interaction session not found');
  }

  /** Gives back the payload oidc-provider saved from a `model` row, and re-keys a row found under a previous key. */
  async function restored(model: string, row: { id: string; payload: OidcPayload }, known: { id?: string; userCode?: string }): Promise<OidcPayload> {
    const { payload, id } = secrets.restore(model, row.id, row.payload, known);
    const currentId = id === undefined ? undefined : secrets.idsOf(model, id)[0];
    if (currentId !== undefined && currentId !== row.id) await rekeyModel(db, model, row.id, currentId);
    return payload;
  }

  /** Finds the `model` row matching `where` (not by id) and gives back its payload. */
  async function findRestored(model: string, where: SQL, known: { userCode?: string }): Promise<OidcPayload | undefined> {
    const row = await findModel(db, model, where, clock.now());
    return row ? restored(model, row, known) : undefined;
  }

  /**
   * Finds a model by its id; a code's or token's Grant read with it is kept for this request's `Grant.find`, and
   * the Session of a session-bound one for its `Session.findByUid`.
   */
  async function findById(model: string, id: string): Promise<OidcPayload | undefined> {
    if (model === 'Grant') {
      const state = requestState(false);
      if (state?.grants.has(id)) {
        const grant = state.grants.get(id);
        state.grants.delete(id);
        return grant ?? undefined;
      }
    }
    const ids = secrets.idsOf(model, id);
    const row = await findModelById(db, model, ids, clock.now(), ids[0], readsAccountWith(model));
    if (!row) return undefined;
    const ctx = requestContext();
    if (ctx && row.account) shareAccountView(ctx, requestContext, row.account.accountId, row.account.view);
    const { grantId } = row;
    if (grantId !== null) {
      const state = requestState(true);
      state?.grants.set(grantId, row.grant && secrets.restore('Grant', grantId, row.grant, { id: grantId }).payload);
    }
    const { sessionUid } = row.payload;
    if (row.payload.expiresWithSession === true && typeof sessionUid === 'string') requestState(true)?.sessions.set(sessionUid, row.session);
    return restored(model, row, { id });
  }

  /** A Session by uid: the one read with this request's session-bound code or token (once), else from the table. */
  async function findSessionByUid(uid: string): Promise<OidcPayload | undefined> {
    const state = requestState(false);
    if (state?.sessions.has(uid)) {
      const row = state.sessions.get(uid);
      state.sessions.delete(uid);
      return row ? restored('Session', row, {}) : undefined;
    }
    return findRestored('Session', eq(oidcModels.uid, uid), {});
  }

  /** Forgets what this request read of `grantId`: it is being changed. */
  const forgetGrant = (grantId: string) => requestState(false)?.grants.delete(grantId);
  /** Forgets the sessions this request read with a code or token: one is being changed. */
  const forgetSessions = () => requestState(false)?.sessions.clear();

  /** The refusal of a code or token that was already used (or is gone), after revoking its grant. */
  async function refuseReuse(model: string, grantId: string | null, now: Date): Promise<never> {
    if (grantId) {
      forgetGrant(grantId);
      await revokeGrantOn(db, grantId, now, retention);
    }
    // `reason` lets the provider's listeners tell a lost race from other refusals (a reused refresh token).
    throw Object.assign(new (oidcProvider().errors.InvalidGrant)(`${LABELS[model] ?? model} already used`), { reason: 'already_consumed' });
  }

  /** Consumes a `kind` row stored under one of `ids` with one conditional UPDATE; refuses a reuse. */
  async function consumeNow(kind: string, ids: string[]): Promise<void> {
    const now = clock.now();
    const result = await consumeModel(db, kind, ids, now);
    if (!result.consumed) await refuseReuse(kind, result.grantId, now);
  }

  /**
   * Carries out a request's held-back consume with the saves held back after it, in one statement (the consume
   * alone when there are none); refuses a reuse. Before a deletion or another consume in the request (they must
   * follow it), and by `settleRequest` once the answer is ready.
   */
  async function settleConsume(state = requestState(false)): Promise<void> {
    const pending = state?.pendingConsume;
    if (!state || !pending) return;
    state.pendingConsume = undefined;
    if (pending.saves.length === 0) return consumeNow(pending.kind, pending.ids);
    const now = clock.now();
    const result = await consumeAndSaveModels(db, pending.kind, pending.ids, pending.saves, now);
    if (!result.consumed) await refuseReuse(pending.kind, result.grantId, now);
  }

  return class PostgresOidcAdapter implements OidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: OidcPayload, expiresIn?: number) {
      if (this.model === 'Client') throw new Error('clients are registered through the client store, not oidc-provider');
      if (this.model === 'Grant') forgetGrant(id);
      if (this.model === 'Session') forgetSessions();
      const stored = secrets.toStored(this.model, id, payload);
      const now = clock.now();
      const save: ModelToSave = { kind: this.model, model: stored, expiresInSeconds: expiresIn, now };
      if (this.model === 'Session' && requestState(false)?.pending) return flush(save);
      if (this.model !== 'Session' && sessionSavedAtEnd()) {
        pendingWrites(true)!.saves.set(`${this.model}\u0000${stored.id}`, save);
        return;
      }
      await flush();
      const pending = requestState(false)?.pendingConsume;
      if (!pending) return upsertModel(db, this.model, stored, expiresIn, now);
      // Held back: saved with the consume when the answer is ready (see the module comment).
      pending.saves = [...pending.saves.filter((m) => m.kind !== this.model || m.model.id !== stored.id), save];
    }

    static beginRequest(ctx: object): void {
      const state = requests.get(ctx);
      if (state) state.settles = true;
      else requests.set(ctx, { grants: new Map(), sessions: new Map(), settles: true });
    }

    static async settleRequest(ctx: object, succeeded: boolean): Promise<void> {
      const state = requests.get(ctx);
      if (!state?.pendingConsume) return;
      if (!succeeded) {
        state.pendingConsume = undefined;
        return;
      }
      await settleConsume(state);
    }

    async find(id: string) {
      if (this.model === 'Client') {
        const client = await findClient(id);
        return client ? clientMetadata(client) : undefined;
      }
      await flush();
      return findById(this.model, id);
    }

    async findByUid(uid: string) {
      await flush();
      if (this.model === 'Session') return findSessionByUid(uid);
      return findRestored(this.model, eq(oidcModels.uid, uid), {});
    }

    async findByUserCode(userCode: string) {
      await flush();
      return findRestored(this.model, inArray(oidcModels.userCode, secrets.userCodesOf(userCode)), { userCode });
    }

    async destroy(id: string) {
      if (this.model === 'Client') throw new Error('clients are removed through the client store, not oidc-provider');
      if (this.model === 'Grant') forgetGrant(id);
      if (this.model === 'Session') forgetSessions();
      const ids = secrets.idsOf(this.model, id);
      if (this.model === 'Interaction' && sessionSavedAtEnd() && !requestState(false)?.pending?.destroy) {
        const pending = pendingWrites(true)!;
        pending.saves.delete(`${this.model}\u0000${ids[0]}`);
        pending.destroy = { kind: this.model, ids };
        return;
      }
      await flush();
      await settleConsume();
      await destroyModel(db, this.model, ids);
    }

    async revokeByGrantId(grantId: string) {
      forgetGrant(grantId);
      await flush();
      await settleConsume();
      return destroyByGrantId(db, grantId);
    }

    async consume(id: string) {
      await flush();
      await settleConsume();
      const ids = secrets.idsOf(this.model, id);
      const state = requestState(false);
      if (state?.settles && (this.model === 'RefreshToken' || this.model === 'AuthorizationCode') && routeOf() === 'token') {
        // Carried out with the tokens this request saves, when its answer is ready (see the module comment).
        state.pendingConsume = { kind: this.model, ids, saves: [] };
        return;
      }
      await consumeNow(this.model, ids);
    }
  };
}
