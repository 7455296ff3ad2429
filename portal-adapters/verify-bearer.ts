/**
 * Access-token verification for APIs: the token must be a JWT access token (RFC 9068) signed by the issuer's key
 * from its `jwks_uri`, with `typ` `at+jwt`, our issuer, the expected audience and an unexpired `exp`.
 * An unbound token comes as `Authorization: Bearer` (RFC 6750 §2.1, §3). A DPoP-bound token (`cnf.jkt`,
 * RFC 9449 §6.1) comes only as `Authorization: DPoP` with a valid `DPoP` proof (RFC 9449 §7, ./dpop.ts).
 *
 * The issuer's keys come from jose's remote JWKS (fetched once, cached, fetched again for an unknown `kid`);
 * the token itself is checked by fast-jwt, which verifies the signature with node:crypto in the request's own
 * turn of the event loop. jose's `jwtVerify` goes through WebCrypto, whose verification is a thread-pool job
 * and a promise: the portal API's route cost about twice the CPU of a plain route (issue 10 §2).
 */
import { KeyObject } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { createVerifier, TokenError, type Algorithm } from 'fast-jwt';
import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
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

/** A key of the issuer's JWKS as jose's remote key set hands it back (a WebCrypto CryptoKey). */
type PublishedKey = Awaited<ReturnType<ReturnType<typeof createRemoteJWKSet>>>;

/** A token refused by {@link accessTokenVerifier}: 401 `invalid_token`. */
class InvalidAccessToken extends Error {}

/**
 * The access-token check of one `verifyBearer`: resolves to the token's claims when it is a JWS compact token
 * whose `alg` is among `options.algorithms`, signed by the issuer's published key for that `alg` and `kid`
 * (jose's remote JWKS selects it), with `typ` `at+jwt` (RFC 9068 §4, compared as RFC 8725 §3.11 says), `iss` the
 * issuer, `aud` the audience, the RFC 9068 §2.2 claims present, `exp` not passed and `nbf` reached (both within
 * the clock tolerance), `iat` a number, and no `crit` extension. One fast-jwt verifier is made for each key jose
 * hands back (its public key as PEM, the one `alg` jose imported it for) and dropped with it.
 * @throws InvalidAccessToken for a refused token; JWKSTimeout or a fetch error when the keys cannot be had.
 */
function accessTokenVerifier(jwksUri: string, issuer: string, options: VerifyBearerOptions): (token: string) => Promise<JWTPayload> {
  const algorithms = options.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'];
  const clockTolerance = (options.clockToleranceSeconds ?? 5) * 1000;
  const keys = createRemoteJWKSet(new URL(jwksUri));
  const verifiers = new WeakMap<PublishedKey, (token: string) => JWTPayload>();
  const verifierFor = (key: PublishedKey, alg: string) => {
    let verifier = verifiers.get(key);
    if (!verifier) {
      const pem = KeyObject.from(key).export({ type: 'spki', format: 'pem' }) as string;
      verifier = createVerifier({
        key: pem, algorithms: [alg as Algorithm], allowedIss: issuer, allowedAud: options.audience, checkTyp: 'at+jwt',
        requiredClaims: REQUIRED_CLAIMS, clockTolerance, cache: false,
      }) as (token: string) => JWTPayload;
      verifiers.set(key, verifier);
    }
    return verifier;
  };
  const check = (token: string, key: PublishedKey, alg: string): JWTPayload => {
    const payload = verifierFor(key, alg)(token);
    // jose's check that fast-jwt does not make (it reads iat only for maxAge).
    if (typeof payload.iat !== 'number') throw new InvalidAccessToken('iat must be a number');
    return payload;
  };
  return async (token) => {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new InvalidAccessToken('malformed token');
    }
    const { alg } = header;
    if (typeof alg !== 'string' || !algorithms.includes(alg)) throw new InvalidAccessToken('algorithm not accepted');
    const [protectedHeader, payload, signature] = token.split('.');
    try {
      try {
        return check(token, await keys(header, { protected: protectedHeader, payload: payload ?? '', signature: signature ?? '' }), alg);
      } catch (err) {
        // Several published keys fit (no kid): the token is valid if one of them verifies it, as jwtVerify does.
        if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
        for await (const key of err as errors.JWKSMultipleMatchingKeys & AsyncIterable<PublishedKey>) {
          try {
            return check(token, key, alg);
          } catch {
            // the next one
          }
        }
        throw new InvalidAccessToken('no published key verifies the token');
      }
    } catch (err) {
      if (err instanceof TokenError || (err instanceof errors.JOSEError && !(err instanceof errors.JWKSTimeout))) throw new InvalidAccessToken(err.message, { cause: err });
      throw err;
    }
  };
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
  const verify = accessTokenVerifier(jwksUri, issuer, options);
  return async (req, res, next) => {
    const match = AUTHORIZATION.exec(req.get('authorization') ?? '');
    if (!match) return challenge(res, 'Bearer', algs);
    const scheme: Scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = match[2]!;
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (err) {
      if (err instanceof InvalidAccessToken) return challenge(res, scheme, algs, 'invalid_token');
      return unavailable(ctx, res, err, 'access token keys');
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
