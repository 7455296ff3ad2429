/**
 * What every handler of one `createPortalAuth` instance shares: resolved options, the discovered issuer
 * (an openid-client `Configuration`), the cookie sealers and the session reader.
 */
import type { Request } from 'express';
import type { Configuration } from 'openid-client';
import { isLoggedOut } from './backchannel-logout.js';
import type { LogoutStore } from './logout-store.js';
import type { ResolvedPortalAuthOptions } from './options.js';
import type { ReplayStore } from './replay-store.js';
import type { Sealer } from './sealed-cookie.js';
import type { PortalSession } from './session.js';
import { readCookie } from './cookies.js';

/** State of one sign-in between `/auth/login` and `/auth/callback` (OIDC Core §3.1.2.1, RFC 7636 §4.1). */
export interface SignInTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Same-origin path to return to after sign-in. */
  returnTo: string;
  /** The `acr_values` asked for (`requireAcr`), space-separated; the callback checks the ID token's `acr` against them. */
  acrValues?: string;
}

/** Shared by the handlers of one adapter instance. */
export interface PortalContext {
  options: ResolvedPortalAuthOptions;
  config: Configuration;
  sessions: Sealer<PortalSession>;
  transactions: Sealer<SignInTransaction>;
  /** Name of the transaction cookie, `${cookieName}_tx`, scoped to path `<basePath>/auth/` ({@link transactionCookiePath}). */
  transactionCookie: string;
  /** Back-channel logouts received (OIDC Back-Channel Logout 1.0). */
  logouts: LogoutStore;
  /** The `jti`s of logout tokens and DPoP proofs accepted, until they expire. */
  replays: ReplayStore;
  getSession(req: Request): Promise<PortalSession | null>;
}

/**
 * Reads the session cookie once per request (the result is cached on the request). A session that a recorded
 * back-channel logout covers reads as null: the person is signed out.
 * @throws (the promise rejects) what the logout store throws.
 */
export function sessionReader(cookieName: string, sessions: Sealer<PortalSession>, logouts: LogoutStore, clientId: string): (req: Request) => Promise<PortalSession | null> {
  const cache = new WeakMap<Request, Promise<PortalSession | null>>();
  const read = async (req: Request) => {
    const session = await sessions.open(readCookie(req, cookieName));
    return session && !(await isLoggedOut(logouts, clientId, session)) ? session : null;
  };
  return (req) => {
    let pending = cache.get(req);
    if (!pending) {
      pending = read(req);
      cache.set(req, pending);
    }
    return pending;
  };
}

/** The transaction cookie's path, `<basePath>/auth/`: only the adapter's routes receive it. */
export function transactionCookiePath(options: ResolvedPortalAuthOptions): string {
  return `${options.basePath}/auth/`;
}

/** The session cookie's path: the application's `basePath`, or `/` at the origin's root. */
export function sessionCookiePath(options: ResolvedPortalAuthOptions): string {
  return options.basePath || '/';
}
