/**
 * Access-token verification for APIs: the token must be a JWT access token (RFC 9068) signed by the issuer's key
 * from its `jwks_uri`, with `typ` `at+jwt`, our issuer, the expected audience and an unexpired `exp`.
 * An unbound token comes as `Authorization: Bearer` (RFC 6750 §2.1, §3). A DPoP-bound token (`cnf.jkt`,
 * RFC 9449 §6.1) comes only as `Authorization: DPoP` with a valid `DPoP` proof (RFC 9449 §7, ./dpop.ts).
 */
import type { Request, RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { PortalContext } from './context.js';
import { DPOP_ALGORITHMS, InvalidDPoPProof, verifyDPoPProof } from './dpop.js';

/** Options of `verifyBearer`. Durations are seconds. */
export interface VerifyBearerOptions {
  /** The `aud` this API accepts, e.g. `urn:connect-iam:portal-api` (RFC 9068 §4). */
  audience: string;
  /** Accepted JWS algorithms. Default `['RS256', 'PS256', 'ES256', 'EdDSA']`; never symmetric, never `none`. */
  algorithms?: string[];
  /** Clock skew tolerated on `exp`/`nbf`/`iat`. Default 5. */
  clockToleranceSeconds?: number;
  /**
   * JWS algorithms accepted for DPoP proofs (RFC 9449 §4.3 check 5). Default: the issuer's
   * `dpop_signing_alg_values_supported`, else ES256/384/512, PS256/384/512, RS256/384/512, EdDSA, Ed25519.
   * Asymmetric only.
   */
  dpopAlgorithms?: string[];
  /**
   * How far a DPoP proof's `iat` may be from this server's clock, either way (RFC 9449 §4.3 check 11, §11.1).
   * Each proof's `jti` is kept in the adapter's `replayStore` until `iat` + this. Default 60.
   */
  dpopProofWindowSeconds?: number;
}

/** Claims every RFC 9068 access token carries (§2.2); `iss` and `aud` are checked by value. */
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'client_id', 'jti'];

/** `Authorization: <scheme> <token68>` (RFC 9110 §11.4, RFC 6750 §2.1, RFC 9449 §7.1). */
const AUTHORIZATION = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i;

type Scheme = 'Bearer' | 'DPoP';

/** A 401 with one challenge. Bearer challenges stay as before (no description); DPoP ones name the `algs`. */
function challenge(res: Response, scheme: Scheme, algs: string, error?: string, description?: string): void {
  const params = [error && `error="${error}"`, description && `error_description="${description}"`, scheme === 'DPoP' && `algs="${algs}"`].filter(Boolean);
  res.set('WWW-Authenticate', params.length ? `${scheme} ${params.join(', ')}` : scheme);
  res.status(401).json({ error: error ?? 'unauthenticated', ...(description ? { error_description: description } : {}) });
}

function unavailable(ctx: PortalContext, res: Response, err: unknown, what: string): void {
  ctx.options.logger.warn({ err }, `${what} unavailable`);
  res.status(503).set('Retry-After', '5').json({ error: 'temporarily_unavailable' });
}

/** The token's key binding: its `cnf.jkt`, null when unbound, undefined for a `cnf` this adapter cannot check. */
function boundKey(payload: JWTPayload): string | null | undefined {
  const cnf = payload.cnf as Record<string, unknown> | undefined;
  if (cnf === undefined) return null;
  return typeof cnf === 'object' && cnf !== null && typeof cnf.jkt === 'string' && Object.keys(cnf).length === 1 ? cnf.jkt : undefined;
}

/** The public URL the request was sent to: the configured `baseUrl`'s origin and the request's full path (mount path included), never the Host header. */
function publicUrl(ctx: PortalContext, req: Request): string {
  const target = req.originalUrl.split(/[?#]/, 1)[0]!;
  const path = target.startsWith('/') ? target : (URL.parse(target)?.pathname ?? '/'); // absolute-form request target
  return `${new URL(ctx.options.baseUrl).origin}${path}`;
}

function dpopAlgorithms(ctx: PortalContext, options: VerifyBearerOptions): string[] {
  if (options.dpopAlgorithms) {
    if (!options.dpopAlgorithms.length || options.dpopAlgorithms.some((alg) => !DPOP_ALGORITHMS.includes(alg))) {
      throw new TypeError(`portal-adapters: dpopAlgorithms must be among ${DPOP_ALGORITHMS.join(' ')}`);
    }
    return options.dpopAlgorithms;
  }
  const advertised = (ctx.config.serverMetadata().dpop_signing_alg_values_supported ?? []).filter((alg) => DPOP_ALGORITHMS.includes(alg));
  return advertised.length ? advertised : [...DPOP_ALGORITHMS];
}

/**
 * Builds the `verifyBearer` middleware (see `PortalAuth.verifyBearer`).
 * @throws TypeError when `audience` is empty, the issuer publishes no `jwks_uri`, `dpopAlgorithms` holds a
 *   symmetric or unknown algorithm, or `dpopProofWindowSeconds` is not a positive number.
 */
export function verifyBearerMiddleware(ctx: PortalContext, options: VerifyBearerOptions): RequestHandler {
  const { jwks_uri: jwksUri, issuer } = ctx.config.serverMetadata();
  if (!jwksUri) throw new TypeError('portal-adapters: the issuer publishes no jwks_uri');
  if (!options?.audience) throw new TypeError('portal-adapters: verifyBearer needs an audience');
  const windowSeconds = options.dpopProofWindowSeconds ?? 60;
  if (!(windowSeconds > 0) || !Number.isFinite(windowSeconds)) throw new TypeError('portal-adapters: dpopProofWindowSeconds must be a positive number');
  const proofAlgorithms = dpopAlgorithms(ctx, options);
  const algs = proofAlgorithms.join(' ');
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
    const match = AUTHORIZATION.exec(req.get('authorization') ?? '');
    if (!match) return challenge(res, 'Bearer', algs);
    const scheme: Scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = match[2]!;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, verifyOptions));
    } catch (err) {
      if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout) return unavailable(ctx, res, err, 'access token keys');
      return challenge(res, scheme, algs, 'invalid_token');
    }
    const jkt = boundKey(payload);
    if (jkt === undefined) return challenge(res, scheme, algs, 'invalid_token', 'unsupported token binding');
    if (jkt === null) {
      if (scheme === 'DPoP') return challenge(res, 'DPoP', algs, 'invalid_token', 'the access token is not DPoP-bound: use the Bearer scheme');
    } else {
      // RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token.
      if (scheme === 'Bearer') return challenge(res, 'DPoP', algs, 'invalid_token', 'the access token is DPoP-bound: use the DPoP scheme with a proof');
      try {
        await verifyDPoPProof(req.headersDistinct.dpop, {
          method: req.method, url: publicUrl(ctx, req), accessToken: token, jkt, algorithms: proofAlgorithms,
          windowSeconds, replays: ctx.replays, replayScope: ctx.options.clientId,
        });
      } catch (err) {
        if (!(err instanceof InvalidDPoPProof)) return unavailable(ctx, res, err, 'DPoP replay store');
        return challenge(res, 'DPoP', algs, err.error, err.message);
      }
    }
    verified.set(req, { ctx, claims: payload });
    res.locals.accessToken = payload;
    next();
  };
}

/** The access tokens `verifyBearer` accepted, per request, with the adapter instance (`ctx`) that accepted each. */
const verified = new WeakMap<Request, { ctx: PortalContext; claims: JWTPayload }>();

/**
 * The claims of the access token that this adapter's `verifyBearer` (`ctx`) accepted for `req`, for
 * `requireFunction`; undefined when it did not run or refused. Never read from `res.locals`, which the
 * application may write.
 */
export function verifiedAccessToken(ctx: PortalContext, req: Request): JWTPayload | undefined {
  const entry = verified.get(req);
  return entry?.ctx === ctx ? entry.claims : undefined;
}
