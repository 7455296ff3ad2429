/**
 * Bearer access-token verification for APIs (RFC 6750 §2.1, §3): the token must be a JWT access token
 * (RFC 9068) signed by the issuer's key from its `jwks_uri`, with `typ` `at+jwt`, our issuer, the expected
 * audience and an unexpired `exp`.
 */
import type { RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { PortalContext } from './context.js';

/** Options of `verifyBearer`. */
export interface VerifyBearerOptions {
  /** The `aud` this API accepts, e.g. `urn:connect-iam:portal-api` (RFC 9068 §4). */
  audience: string;
  /** Accepted JWS algorithms. Default `['RS256', 'PS256', 'ES256', 'EdDSA']`; never symmetric, never `none`. */
  algorithms?: string[];
  /** Clock skew tolerated on `exp`/`nbf`/`iat`. Default 5. */
  clockToleranceSeconds?: number;
}

/** Claims every RFC 9068 access token carries (§2.2); `iss` and `aud` are checked by value. */
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'client_id', 'jti'];

function challenge(res: Response, error?: string): void {
  res.set('WWW-Authenticate', error ? `Bearer error="${error}"` : 'Bearer');
  res.status(401).json({ error: error ?? 'unauthenticated' });
}

export function verifyBearerMiddleware(ctx: PortalContext, options: VerifyBearerOptions): RequestHandler {
  const { jwks_uri: jwksUri, issuer } = ctx.config.serverMetadata();
  if (!jwksUri) throw new TypeError('portal-adapters: the issuer publishes no jwks_uri');
  if (!options?.audience) throw new TypeError('portal-adapters: verifyBearer needs an audience');
  const keys = createRemoteJWKSet(new URL(jwksUri));
  const verifyOptions = {
    issuer,
    audience: options.audience,
    typ: 'at+jwt',
    algorithms: options.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'],
    requiredClaims: REQUIRED_CLAIMS,
    clockTolerance: options.clockToleranceSeconds ?? 5,
  };
  return async (req, res, next) => {
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(req.get('authorization') ?? '');
    if (!match) return challenge(res);
    try {
      const { payload } = await jwtVerify(match[1]!, keys, verifyOptions);
      res.locals.accessToken = payload;
      next();
    } catch (err) {
      if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout) {
        ctx.options.logger.warn({ err }, 'access token keys unavailable');
        res.status(503).set('Retry-After', '5').json({ error: 'temporarily_unavailable' });
        return;
      }
      challenge(res, 'invalid_token');
    }
  };
}
