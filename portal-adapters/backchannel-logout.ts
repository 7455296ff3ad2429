/**
 * `POST /auth/backchannel-logout`: the client's `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0). The IdP
 * posts a signed logout token when the person signs out elsewhere (RP-initiated logout at another application)
 * or their account is suspended, closed or its password reset. The token is validated as §2.6 says and the
 * logout recorded in the {@link LogoutStore}; from then on the session reader refuses the sessions it covers,
 * so the person is signed out here too.
 */
import express, { type RequestHandler, type Response } from 'express';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { PortalContext } from './context.js';
import type { LogoutStore } from './logout-store.js';
import type { PortalSession } from './session.js';

/** The event a logout token carries (§2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What a valid logout token names: the End-User (`sub`), one IdP session (`sid`), or both. */
export interface LogoutTarget {
  sub?: string;
  sid?: string;
}

/** Why a logout token was refused; its message is safe to return as `error_description`. */
export class InvalidLogoutToken extends Error {}

/** What {@link verifyLogoutToken} checks against. */
export interface LogoutTokenExpectations {
  /** The issuer's Issuer Identifier (`iss`). */
  issuer: string;
  /** This application's client id (`aud`). */
  clientId: string;
  /** Accepted JWS algorithms. Default `['RS256', 'PS256', 'ES256', 'EdDSA']`; never symmetric, never `none`. */
  algorithms?: string[];
  /** Clock skew tolerated on `exp`/`iat`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
}

/**
 * Validates a logout token (OIDC Back-Channel Logout 1.0 §2.6): signature from `keys`, `iss`, `aud` = client id,
 * `iat`, `exp`, `jti`, `events` holding the back-channel-logout member as a JSON object, `sub` and/or `sid`, and
 * no `nonce` (so an ID token is never taken for a logout token).
 * @returns the `sub` and `sid` it names.
 * @throws {@link InvalidLogoutToken} for a token that fails a check; jose's `JWKSTimeout` or a non-jose error when
 *   the issuer's keys cannot be fetched.
 */
export async function verifyLogoutToken(token: string, keys: JWTVerifyGetKey, expected: LogoutTokenExpectations): Promise<LogoutTarget> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: expected.issuer,
      audience: expected.clientId,
      algorithms: expected.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requiredClaims: ['iat', 'exp', 'jti', 'events'],
      clockTolerance: expected.clockToleranceSeconds ?? 5,
    }));
  } catch (err) {
    if (err instanceof errors.JOSEError && !(err instanceof errors.JWKSTimeout)) throw new InvalidLogoutToken(`the logout token is not valid (${err.code})`);
    throw err;
  }
  const events = payload.events as Record<string, unknown> | null;
  const event = events && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!event || typeof event !== 'object' || Array.isArray(event)) throw new InvalidLogoutToken(`events must hold ${BACKCHANNEL_LOGOUT_EVENT}`);
  if ('nonce' in payload) throw new InvalidLogoutToken('a logout token must not contain nonce');
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
  const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined;
  if (!sub && !sid) throw new InvalidLogoutToken('a logout token names sub, sid or both');
  return { ...(sub ? { sub } : {}), ...(sid ? { sid } : {}) };
}

const subKey = (clientId: string, sub: string) => `${clientId}:sub:${sub}`;
const sidKey = (clientId: string, sid: string) => `${clientId}:sid:${sid}`;

/**
 * Records a validated logout (§2.7): with `sid`, that one session; with `sub` only, every session of the End-User
 * that began before `at` (milliseconds). Entries live `ttlSeconds`, the session lifetime. Keys are scoped to
 * `clientId`, so applications may share one store.
 */
export async function recordLogout(store: LogoutStore, clientId: string, target: LogoutTarget, at: number, ttlSeconds: number): Promise<void> {
  if (target.sid) await store.record(sidKey(clientId, target.sid), at, ttlSeconds);
  else if (target.sub) await store.record(subKey(clientId, target.sub), at, ttlSeconds);
}

/** True when a recorded logout ends `session`: its `sid`, or its `sub` logged out after the session began. */
export async function isLoggedOut(store: LogoutStore, clientId: string, session: PortalSession): Promise<boolean> {
  if (session.sid && (await store.loggedOutAt(sidKey(clientId, session.sid))) !== null) return true;
  const subAt = await store.loggedOutAt(subKey(clientId, session.sub));
  return subAt !== null && (session.signedInAt === undefined || subAt >= session.signedInAt);
}

function invalidRequest(res: Response, description: string): void {
  res.status(400).json({ error: 'invalid_request', error_description: description });
}

/** §2.8: a logout that failed answers 400 too; the IdP may retry. */
function unavailable(res: Response): void {
  res.status(400).json({ error: 'temporarily_unavailable', error_description: 'the logout could not be processed now' });
}

/**
 * The route: form body `logout_token`; 200 when recorded, 400 `invalid_request` for a missing or invalid token,
 * 400 `temporarily_unavailable` when the issuer's keys or the logout store cannot be reached (§2.8).
 */
export function backChannelLogoutRoute(ctx: PortalContext): RequestHandler[] {
  const { jwks_uri: jwksUri, issuer } = ctx.config.serverMetadata();
  const keys = jwksUri ? createRemoteJWKSet(new URL(jwksUri)) : null;
  const { clientId, sessionTtlSeconds, logger } = ctx.options;
  const handler: RequestHandler = async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const token = (req.body as Record<string, unknown> | undefined)?.logout_token;
    if (typeof token !== 'string' || token === '') return invalidRequest(res, 'logout_token is missing');
    if (!keys) return invalidRequest(res, 'the issuer publishes no jwks_uri');
    let target: LogoutTarget;
    try {
      target = await verifyLogoutToken(token, keys, { issuer, clientId });
    } catch (err) {
      logger.warn({ err }, 'back-channel logout token refused');
      if (err instanceof InvalidLogoutToken) return invalidRequest(res, err.message);
      return unavailable(res);
    }
    try {
      await recordLogout(ctx.logouts, clientId, target, Date.now(), sessionTtlSeconds);
    } catch (err) {
      logger.warn({ err }, 'back-channel logout could not be recorded');
      return unavailable(res);
    }
    res.status(200).end();
  };
  return [express.urlencoded({ extended: false, limit: '16kb' }), handler];
}
