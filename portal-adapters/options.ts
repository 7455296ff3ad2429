/**
 * Options of {@link createPortalAuth}: what a downstream application states about itself, where each
 * default lives and what it means.
 */
import type { Request, Response } from 'express';
import type { Decision } from '../policies/index.js';
import type { LogoutStore } from './logout-store.js';
import type { ReplayStore } from './replay-store.js';

/** Where the adapter writes what it must not show to people (pino's `logger.warn(obj, msg)` fits). */
export interface PortalLogger {
  warn(details: object, message: string): void;
}

/** Called instead of the built-in 403 page when `requireFunction` denies. */
export type OnDenied = (req: Request, res: Response, decision: Decision) => void;

/** Options of `createPortalAuth`. Durations are seconds. */
export interface PortalAuthOptions {
  /** The OpenID Provider's Issuer Identifier, e.g. `https://id.example.com` (OIDC Discovery 1.0 §4). */
  issuer: string;
  /** This application's `client_id` at the IdP. */
  clientId: string;
  /** Its `client_secret`, sent with `client_secret_basic` (OIDC Core §9). */
  clientSecret: string;
  /**
   * This application's public URL, e.g. `http://localhost:3001`, or `https://portal.example.com/admin` for an
   * application mounted under a path. The redirect URI is `${baseUrl}/auth/callback` and the post-logout
   * redirect URI `${baseUrl}/`: register both at the IdP. Its path scopes the cookies and prefixes every
   * redirect (mount the router at that path). Public URLs come from here, never from the Host header.
   */
  baseUrl: string;
  /** Secret the cookie encryption keys are derived from (HKDF-SHA-256); at least 32 characters. */
  cookieSecret: string;
  /** Scopes requested at sign-in. Default `openid profile email organization`. */
  scope?: string;
  /**
   * Name of the session cookie; the sign-in transaction cookie is `${cookieName}_tx`. Default
   * `portal_session`. Cookies do not isolate ports: apps sharing a host name need different names.
   */
  cookieName?: string;
  /** Mark cookies `Secure`. Default: true when `baseUrl` is https. */
  secureCookies?: boolean;
  /** Lifetime of the application session. Default 3600 (one hour). */
  sessionTtlSeconds?: number;
  /** Accept an `http:` issuer (tests, local development). Ignored for https issuers. Default false. */
  allowInsecureRequests?: boolean;
  /** Replaces the built-in 403 page of `requireFunction`. */
  onDenied?: OnDenied;
  /** Receives sign-in failures and their causes. Default: `console.warn`. */
  logger?: PortalLogger;
  /**
   * Where back-channel logouts are recorded until the sessions they end expire. Default: in this process's
   * memory. Several instances: give them one shared store (see `LogoutStore`).
   */
  logoutStore?: LogoutStore;
  /**
   * Where single-use `jti`s are kept so that a replay is refused: each accepted logout token's until the token
   * expires, and each accepted DPoP proof's (`verifyBearer`) until its `iat` + `dpopProofWindowSeconds`.
   * Default: in this process's memory. Several instances: give them one shared store (see `ReplayStore`).
   */
  replayStore?: ReplayStore;
}

/** Options after defaults, as the handlers use them. */
export interface ResolvedPortalAuthOptions extends Required<Omit<PortalAuthOptions, 'onDenied' | 'logoutStore' | 'replayStore'>> {
  onDenied: OnDenied | undefined;
  /** `${baseUrl}/auth/callback`. */
  redirectUri: string;
  /** The path of `baseUrl` without its trailing slash: `''` at the origin's root, e.g. `/admin` under a path. */
  basePath: string;
  /** `${baseUrl}/`. */
  postLogoutRedirectUri: string;
  /** Lifetime of the sign-in transaction cookie (state, nonce, PKCE verifier): 600. */
  transactionTtlSeconds: number;
}

const consoleLogger: PortalLogger = { warn: (details, message) => console.warn(`[portal-adapters] ${message}`, details) };

/**
 * Applies defaults and checks the options.
 * @throws TypeError when `issuer` or `baseUrl` is not an absolute http(s) URL, or `cookieSecret` is shorter than 32.
 */
export function resolveOptions(options: PortalAuthOptions): ResolvedPortalAuthOptions {
  parseHttpUrl(options.issuer, 'issuer');
  const issuer = options.issuer; // verbatim: discovery compares it with the document's `issuer`
  const baseUrl = parseHttpUrl(options.baseUrl, 'baseUrl').href.replace(/\/+$/, '');
  if (typeof options.cookieSecret !== 'string' || options.cookieSecret.length < 32) {
    throw new TypeError('portal-adapters: cookieSecret must be at least 32 characters');
  }
  if (!options.clientId || !options.clientSecret) throw new TypeError('portal-adapters: clientId and clientSecret are required');
  const sessionTtlSeconds = options.sessionTtlSeconds ?? 3600;
  if (!Number.isInteger(sessionTtlSeconds) || sessionTtlSeconds <= 0) {
    throw new TypeError('portal-adapters: sessionTtlSeconds must be a positive integer');
  }
  return {
    issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    baseUrl,
    cookieSecret: options.cookieSecret,
    scope: options.scope ?? 'openid profile email organization',
    cookieName: options.cookieName ?? 'portal_session',
    secureCookies: options.secureCookies ?? baseUrl.startsWith('https:'),
    sessionTtlSeconds,
    allowInsecureRequests: (options.allowInsecureRequests ?? false) && issuer.startsWith('http:'),
    onDenied: options.onDenied,
    logger: options.logger ?? consoleLogger,
    redirectUri: `${baseUrl}/auth/callback`,
    basePath: new URL(baseUrl).pathname.replace(/\/+$/, ''),
    postLogoutRedirectUri: `${baseUrl}/`,
    transactionTtlSeconds: 600,
  };
}

function parseHttpUrl(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`portal-adapters: ${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`portal-adapters: ${name} must be http(s)`);
  return url;
}
