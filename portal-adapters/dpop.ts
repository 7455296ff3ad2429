/**
 * DPoP proofs at a protected resource (RFC 9449 §4.3, §7.1): the checks a resource server makes on the `DPoP`
 * header that comes with a DPoP-bound access token (one whose `cnf.jkt` names the client's key, §6.1).
 * Server-provided nonces (§9) are not supported: a proof's `nonce` is ignored and none is ever asked for.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import type { ReplayStore } from './replay-store.js';

/** Asymmetric JWS algorithms a proof may use when the issuer advertises none (RFC 9449 §4.3 check 5). */
export const DPOP_ALGORITHMS: readonly string[] = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'];

/** What a proof is checked against. */
export interface DPoPProofExpectations {
  /** The request method, compared with `htm` exactly (check 8). */
  method: string;
  /** The request's public absolute URL (from configuration, not the Host header); query and fragment are ignored (check 9). */
  url: string;
  /** The access token presented with the proof; `ath` must be its base64url SHA-256 (check 12). */
  accessToken: string;
  /** The token's `cnf.jkt`: the RFC 7638 SHA-256 thumbprint the proof's `jwk` must have (check 12, §6.1). */
  jkt: string;
  /** Accepted proof algorithms, asymmetric only (check 5). */
  algorithms: string[];
  /** How far `iat` may be from now, either way (check 11); each `jti` is remembered until `iat` + this. */
  windowSeconds: number;
  /** Where each proof's `jti` is consumed, so that a replayed proof is refused (§11.1). */
  replays: ReplayStore;
  /** Prefix of the replay keys (the adapter uses its client id). */
  replayScope: string;
  /** The clock in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * A refused proof. `error` is the RFC 9449 §7.1 error code for the `WWW-Authenticate: DPoP` challenge:
 * `invalid_dpop_proof`, or `invalid_token` when the proof is sound but made with another key than the token's.
 * `message` is fixed text, safe to send as `error_description`.
 */
export class InvalidDPoPProof extends Error {
  constructor(message: string, readonly error: 'invalid_dpop_proof' | 'invalid_token' = 'invalid_dpop_proof') {
    super(message);
    this.name = 'InvalidDPoPProof';
  }
}

/** A proof that passed every check. */
export interface VerifiedDPoPProof {
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  /** The thumbprint of the proof's key (= the token's `cnf.jkt`). */
  jkt: string;
}

/**
 * Verifies the `DPoP` request header as RFC 9449 §4.3 says, in its order: exactly one header (check 1), a JWT
 * (2) with `jti`, `htm`, `htu`, `iat` and `ath` (3), `typ` `dpop+jwt` (4), an accepted asymmetric `alg` (5),
 * a valid signature by the public key in its `jwk` header, which holds no private key (6, 7 — jose's
 * `EmbeddedJWK`), `htm` and `htu` (8, 9), `iat` within the window (11), `ath` and the key binding (12); last,
 * the `jti` is consumed, so a proof is accepted once (§11.1).
 * @param proofs - every value of the request's `DPoP` header (Node's `req.headersDistinct.dpop`).
 * @throws InvalidDPoPProof for any failed check; what the replay store throws when it cannot be reached.
 */
export async function verifyDPoPProof(proofs: readonly string[] | undefined, expected: DPoPProofExpectations): Promise<VerifiedDPoPProof> {
  if (!proofs || proofs.length === 0) throw new InvalidDPoPProof('a DPoP proof is required');
  if (proofs.length > 1) throw new InvalidDPoPProof('only one DPoP proof is allowed');
  let verified: Awaited<ReturnType<typeof jwtVerify>>;
  try {
    verified = await jwtVerify(proofs[0]!, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: expected.algorithms, requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'] });
  } catch {
    // No I/O happens here (the key is in the proof), so every failure is the proof's: malformed, wrong typ or alg,
    // a key WebCrypto cannot import, a private or symmetric key, a bad signature.
    throw new InvalidDPoPProof('the DPoP proof is not a valid dpop+jwt');
  }
  const { payload, protectedHeader } = verified;
  const { jti, htm, htu, ath } = payload;
  if (typeof jti !== 'string' || !jti || typeof htm !== 'string' || typeof htu !== 'string' || typeof ath !== 'string') {
    throw new InvalidDPoPProof('jti, htm, htu and ath must be strings');
  }
  if (htm !== expected.method) throw new InvalidDPoPProof('htm does not match the request method');
  const proofUrl = normalizeHtu(htu);
  if (!proofUrl || proofUrl !== normalizeHtu(expected.url)) throw new InvalidDPoPProof('htu does not match the request URL');
  const now = (expected.now ?? Date.now)() / 1000;
  const iat = payload.iat!;
  if (Math.abs(now - iat) > expected.windowSeconds) throw new InvalidDPoPProof('iat is outside the accepted window');
  if (ath !== createHash('sha256').update(expected.accessToken).digest('base64url')) {
    throw new InvalidDPoPProof('ath does not match the access token');
  }
  const jkt = await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256');
  if (jkt !== expected.jkt) throw new InvalidDPoPProof('the DPoP proof key is not the key the access token is bound to', 'invalid_token');
  const ttlSeconds = Math.max(1, Math.ceil(iat + expected.windowSeconds - now));
  if (!(await expected.replays.consume(replayKey(expected.replayScope, jkt, jti), ttlSeconds))) {
    throw new InvalidDPoPProof('the DPoP proof was already used');
  }
  return { jti, iat, jkt };
}

/** Fixed-length replay key: the key's thumbprint and the proof's `jti`, hashed (a `jti` may be long). */
function replayKey(scope: string, jkt: string, jti: string): string {
  return `${scope}:dpop:${createHash('sha256').update(`${jkt}\0${jti}`).digest('base64url')}`;
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * An http(s) URL without query and fragment, normalised for comparison (RFC 9449 §4.3 check 9; RFC 3986 §6.2.2,
 * §6.2.3): the URL parser lowercases scheme and host, drops the default port, gives an empty path `/` and removes
 * dot segments; percent-encodings are then upper-cased, and those of unreserved characters decoded.
 * @returns the normalised URL, or null when `value` is not an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | null {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null;
  url.search = '';
  url.hash = '';
  return url.href.replace(/%[0-9A-Fa-f]{2}/g, (escape) => {
    const char = String.fromCharCode(Number.parseInt(escape.slice(1), 16));
    return UNRESERVED.test(char) ? char : escape.toUpperCase();
  });
}
