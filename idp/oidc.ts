/**
 * A narrow typed facade over oidc-provider 9, which ships JavaScript without type declarations.
 * Only what idp/ uses is declared here; everything else about the library stays untyped and unused.
 * Names and shapes follow oidc-provider's own (`lib/models/*.js`, `lib/helpers/oidc_context.js`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
// @ts-ignore -- oidc-provider has no type declarations; the shapes below are the contract we rely on.
import * as oidcProvider from 'oidc-provider';

/** The storage contract of oidc-provider (one instance per model name, e.g. `Session`, `Grant`). */
export interface OidcAdapter {
  upsert(id: string, payload: object, expiresInSeconds: number): Promise<unknown>;
  find(id: string): Promise<object | undefined | void>;
  destroy(id: string): Promise<unknown>;
}

/** What oidc-provider's `adapter` option accepts: a class or a factory, called with the model name. */
export type OidcAdapterFactory = (new (modelName: string) => OidcAdapter) | ((modelName: string) => OidcAdapter);

/** A registered client (metadata keys camelCased, e.g. `initiateLoginUri`). */
export interface OidcClient {
  clientId: string;
  clientName?: string;
  initiateLoginUri?: string;
  redirectUris: string[];
  /** `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0 §2.2), when registered. */
  backchannelLogoutUri?: string;
  metadata(): Record<string, unknown>;
  /** How the client authenticates at the token endpoint (`none` for a public client). */
  clientAuthMethod?: string;
  /** True when the client is registered for the grant type (e.g. `refresh_token`). */
  grantTypeAllowed(grantType: string): boolean;
  /**
   * Posts a signed logout token (`sub`, plus `sid` when the client registered `backchannel_logout_session_required`
   * and `sid` is given) to the client's `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0 §2.5).
   * @throws when the request fails or the client answers other than 200/204.
   */
  backchannelLogout(sub: string, sid: string | undefined): Promise<void>;
}

/** An authorization grant (OAuth's word): what the End-User allowed one client. */
export interface OidcGrant {
  jti?: string;
  accountId: string;
  clientId: string;
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  /** The OIDC scopes granted, space-separated. */
  getOIDCScope(): string;
  save(): Promise<string>;
  destroy(): Promise<void>;
}

/** A pending interaction (sign-in or consent), persisted through the adapter. */
export interface OidcInteraction {
  uid: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId: string; uid?: string };
  grantId?: string;
  result?: Record<string, unknown>;
  returnTo: string;
  /** Saves changes, keeping the remaining lifetime. */
  persist(): Promise<unknown>;
}

/** The IdP session as oidc-provider keeps it. */
export interface OidcSession {
  uid: string;
  accountId?: string;
  state?: { secret?: string };
  /** Per client: its grant and whether it outlives logout (set for offline grants). */
  authorizations?: Record<string, { grantId?: string; persistsLogout?: boolean }>;
  grantIdFor(clientId: string): string | undefined;
}

/** A token or code: what `findAccount(ctx, sub, token)` receives at the token and userinfo endpoints. */
export interface OidcToken {
  /** The model: `AccessToken`, `ClientCredentials`, `RefreshToken`, `AuthorizationCode`, … */
  kind?: string;
  clientId?: string;
  /** Audience of an access token for a resource server (RFC 8707). */
  aud?: string | string[];
  /** Seconds since the epoch the sign-in happened (codes and refresh tokens). */
  authTime?: number;
  /** RFC 8176 methods of the sign-in (codes and refresh tokens). */
  amr?: string[];
  acr?: string;
  /** Seconds since the epoch; set once a code or refresh token was used. */
  consumed?: number;
  accountId?: string;
  sessionUid?: string;
  grantId?: string;
  /** Space-separated scopes the token carries. */
  scope?: string;
  resourceServer?: { identifier(): string };
}

/** The subset of oidc-provider's Koa context that our configuration functions read. */
export interface OidcContext {
  ip: string;
  status: number;
  type: string;
  body: unknown;
  path: string;
  method: string;
  redirect(url: string): void;
  /** Sets a response header (Koa `ctx.set`). */
  set(field: string, value: string): void;
  accepts(...types: string[]): string | false;
  oidc: {
    route?: string;
    provider: Provider;
    client?: OidcClient;
    session?: OidcSession;
    result?: Record<string, unknown>;
    params?: Record<string, unknown>;
    requestParamOIDCScopes: Set<string>;
    requestParamScopes: Set<string>;
    requestParamClaims: Set<string>;
    resourceServers: Record<string, { scopes: Set<string> }>;
    /** The models the request loaded or created, by name (`AuthorizationCode`, `RefreshToken`, `RotatedRefreshToken`, …). */
    entities: Record<string, OidcToken | undefined>;
    urlFor(name: string, options?: Record<string, string>): string;
  };
}

/** A provider instance (a Koa application). */
export interface Provider {
  readonly issuer: string;
  proxy: boolean;
  maxIpsCount: number;
  Client: { find(clientId: string): Promise<OidcClient | undefined> };
  Grant: { new (input: { accountId: string; clientId: string }): OidcGrant; find(id: string): Promise<OidcGrant | undefined> };
  RefreshToken: { revokeByGrantId(grantId: string): Promise<void> };
  /** `client_credentials` access tokens; `find` resolves a token value (undefined when unknown, expired or revoked). */
  ClientCredentials: { find(value: string): Promise<(OidcToken & { isExpired?: boolean }) | undefined> };
  Interaction: { find(uid: string): Promise<OidcInteraction | undefined> };
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  /** The path of a named route (`token`, `revocation`, …), `mountPath` first; throws for a route not enabled. */
  pathFor(name: string, options?: { mountPath?: string }): string;
  on(event: string, listener: (...args: any[]) => void): Provider;
  /** Emits one of oidc-provider's events (`grant.error`, …) to its listeners. */
  emit(event: string, ...args: unknown[]): boolean;
  use(middleware: (ctx: OidcContext, next: () => Promise<void>) => Promise<void>): Provider;
}

type ErrorClass = new (description?: string, detail?: string) => Error & { error: string; statusCode: number; expose: boolean; error_description?: string };

const library = oidcProvider as unknown as {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => Provider;
  errors: Record<'SessionNotFound' | 'InvalidTarget' | 'InvalidClientMetadata' | 'AccessDenied' | 'InvalidRequest' | 'InvalidGrant' | 'UnauthorizedClient' | 'OIDCProviderError', ErrorClass>;
  interactionPolicy: OidcInteractionPolicyLibrary;
};

/** The Provider class. */
export const OidcProvider = library.Provider;
/** oidc-provider's protocol errors (`errors.*`). */
export const oidcErrors = library.errors;

/** The session as an interaction policy check sees it (`ctx.oidc.session`). `loginTs`: seconds since the epoch. */
export interface OidcCheckSession {
  accountId?: string;
  loginTs?: number;
  /** True when the sign-in is more than `seconds` old (or there is none). */
  past(seconds: number): boolean;
}

/** One check of a prompt: `check(ctx)` true means the prompt is needed (`lib/helpers/interaction_policy/check.js`). */
export interface OidcCheck {
  reason: string;
}

/** A prompt of the interaction policy (`login`, `consent`) and its checks. */
export interface OidcPrompt {
  name: string;
  checks: OidcCheck[] & { add(check: OidcCheck, index?: number): void };
}

/** oidc-provider's `interactionPolicy` export: `base()` is its default policy, `Check` its check class. */
export interface OidcInteractionPolicyLibrary {
  base(): OidcPrompt[] & { get(name: string): OidcPrompt | undefined };
  Check: (new (reason: string, description: string, error: string, check: (ctx: { oidc: { session: OidcCheckSession; result?: Record<string, unknown> } }) => boolean | Promise<boolean>) => OidcCheck) & {
    REQUEST_PROMPT: true;
    NO_NEED_TO_PROMPT: false;
  };
}

/** oidc-provider's interaction policy helpers (`interactions.policy`). */
export const oidcInteractionPolicy = library.interactionPolicy;
