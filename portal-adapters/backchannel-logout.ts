/**
 * `POST /auth/backchannel-logout`: the client's `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0). The IdP
 * posts a signed logout token when the person signs out elsewhere (RP-initiated logout at another application)
 * or their account is suspended, closed or its password reset. The token is validated as §2.6 says, its `jti`
 * consumed in the {@link ReplayStore} (a replay is refused) and the logout recorded in the {@link LogoutStore};
 * from then on the session reader refuses the sessions it covers — those that began before the token's `iat` —
 * so the person is signed out here too, and a session begun after the token was issued lives on.
 */
import type { RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { PortalContext } from './context.js';
import { formBody } from './form-body.js';
import type { LogoutStore } from './logout-store.js';
import type { ReplayStore } from './replay-store.js';
import { issuerInstant, type PortalSession } from './session.js';

/** The event a logout token carries (§2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What a valid logout token names: the End-User (`sub`), one IdP session (`sid`), or both. */
export interface LogoutTarget {
  sub?: string;
  sid?: string;
}

/** The JWS `typ` a logout token carries (§2.4: explicitly typed, RFC 8725 §3.11); oidc-provider sets it. */
export const LOGOUT_TOKEN_TYPE = 'logout+jwt';

/** A validated logout token: what it names, plus its `jti`, `iat` and `exp` (seconds since the epoch). */
export interface VerifiedLogoutToken extends LogoutTarget {
  jti: string;
  iat: number;
  exp: number;
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
 * Validates a logout token (OIDC Back-Channel Logout 1.0 §2.6): JWS header `typ: logout+jwt` (§2.4), signature
 * from `keys`, `iss`, `aud` = client id, `iat` (not in the future), `exp`, `jti`, `events` holding the
 * back-channel-logout member as a JSON object, `sub` and/or `sid`, and no `nonce` (so an ID token is never taken
 * for a logout token). Replays are the caller's to refuse, by `jti` (see {@link ReplayStore}).
 * @returns the `sub` and `sid` it names, and its `jti`, `iat` and `exp`.
 * @throws {@link InvalidLogoutToken} for a token that fails a check; jose's `JWKSTimeout` or a non-jose error when
 *   the issuer's keys cannot be fetched.
 */
export async function verifyLogoutToken(token: string, keys: JWTVerifyGetKey, expected: LogoutTokenExpectations): Promise<VerifiedLogoutToken> {
  const clockTolerance = expected.clockToleranceSeconds ?? 5;
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: expected.issuer,
      audience: expected.clientId,
      typ: LOGOUT_TOKEN_TYPE,
      algorithms: expected.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requiredClaims: ['iat', 'exp', 'jti', 'events'],
      clockTolerance,
    }));
  } catch (err) {
    if (err instanceof errors.JOSEError && !(err instanceof errors.JWKSTimeout)) throw new InvalidLogoutToken(`the logout token is not valid (${err.code})`);
    throw err;
  }
  const events = payload.events as Record<string, unknown> | null;
  const event = events && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (!event || typeof event !== 'object' || Array.isArray(event)) throw new InvalidLogoutToken(`events must hold ${BACKCHANNEL_LOGOUT_EVENT}`);
  if ('nonce' in payload) throw new InvalidLogoutToken('a logout token must not contain nonce');
  const { jti, iat, exp } = payload;
  if (typeof jti !== 'string' || jti === '') throw new InvalidLogoutToken('jti must be a non-empty string');
  if (iat! > Date.now() / 1000 + clockTolerance) throw new InvalidLogoutToken('iat is in the future');
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
  const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined;
  if (!sub && !sid) throw new InvalidLogoutToken('a logout token names sub, sid or both');
  return { ...(sub ? { sub } : {}), ...(sid ? { sid } : {}), jti, iat: iat!, exp: exp! };
}

const subKey = (clientId: string, sub: string) => `${clientId}:sub:${sub}`;
const sidKey = (clientId: string, sid: string) => `${clientId}:sid:${sid}`;
const jtiKey = (clientId: string, jti: string) => `${clientId}:jti:${jti}`;

/**
 * Consumes a logout token's `jti` (§2.6 step 7), remembered until the token expires (`exp`, seconds since the
 * epoch) plus `clockToleranceSeconds`, at least one second. Keys are scoped to `clientId`.
 * @returns true on first use, false for a replay. @throws what the store throws.
 */
export function consumeLogoutToken(store: ReplayStore, clientId: string, token: VerifiedLogoutToken, clockToleranceSeconds = 5): Promise<boolean> {
  const ttlSeconds = Math.max(1, Math.ceil(token.exp - Date.now() / 1000) + clockToleranceSeconds);
  return store.consume(jtiKey(clientId, token.jti), ttlSeconds);
}

/**
 * Records a validated logout (§2.7): with `sid`, that one session; with `sub` only, every session of the End-User.
 * Either way only sessions that began before `at` end: `at` is the token's `iat` as an instant in milliseconds
 * (see {@link issuerInstant}). Entries live `ttlSeconds`, the session lifetime. Keys are scoped to `clientId`,
 * so applications may share one store.
 */
export async function recordLogout(store: LogoutStore, clientId: string, target: LogoutTarget, at: number, ttlSeconds: number): Promise<void> {
  if (target.sid) await store.record(sidKey(clientId, target.sid), at, ttlSeconds);
  else if (target.sub) await store.record(subKey(clientId, target.sub), at, ttlSeconds);
}

/** True when a logout recorded at `at` covers a session that began at `signedInAt` (unknown: it does). */
const endedBy = (at: number | null, signedInAt: number | undefined): boolean => at !== null && (signedInAt === undefined || signedInAt <= at);

/**
 * True when a recorded logout ends `session`: one for its `sid` or for its `sub`, recorded at or after the session
 * began. A session that began after the logout token was issued survives it.
 */
export async function isLoggedOut(store: LogoutStore, clientId: string, session: PortalSession): Promise<boolean> {
  if (session.sid && endedBy(await store.loggedOutAt(sidKey(clientId, session.sid)), session.signedInAt)) return true;
  return endedBy(await store.loggedOutAt(subKey(clientId, session.sub)), session.signedInAt);
}

function invalidRequest(res: Response, description: string): void {
  res.status(400).json({ error: 'invalid_request', error_description: description });
}

/** §2.8: a logout that failed answers 400 too; the IdP may retry. */
function unavailable(res: Response): void {
  res.status(400).json({ error: 'temporarily_unavailable', error_description: 'the logout could not be processed now' });
}

/**
 * The route: form body `logout_token`; 200 when recorded, 400 `invalid_request` for a missing, invalid or replayed
 * token or an unreadable body, 413 `invalid_request` for a body over 16 KiB, 400 `temporarily_unavailable` when the
 * issuer's keys or a store cannot be reached (§2.8). The `jti` is consumed before the logout is recorded.
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
    let verified: VerifiedLogoutToken;
    try {
      verified = await verifyLogoutToken(token, keys, { issuer, clientId });
    } catch (err) {
      logger.warn({ err }, 'back-channel logout token refused');
      if (err instanceof InvalidLogoutToken) return invalidRequest(res, err.message);
      return unavailable(res);
    }
    try {
      if (!(await consumeLogoutToken(ctx.replays, clientId, verified))) {
        logger.warn({ jti: verified.jti }, 'back-channel logout token replayed');
        return invalidRequest(res, 'this logout token was already received');
      }
      await recordLogout(ctx.logouts, clientId, verified, issuerInstant(verified.iat, Date.now()), sessionTtlSeconds);
    } catch (err) {
      logger.warn({ err }, 'back-channel logout could not be recorded');
      return unavailable(res);
    }
    res.status(200).end();
  };
  return [formBody({ limit: '16kb', parameterLimit: 10 }), handler];
}
