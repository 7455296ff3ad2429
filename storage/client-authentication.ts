/**
 * Validation of how a client authenticates at the token endpoint, before it is registered (console and CLI
 * alike): the method (OIDC Registration §2 `token_endpoint_auth_method`), and for `private_key_jwt` (RFC 7523
 * §2.2, OIDC Core §9) the client's public keys, given inline (`jwks`) or by URL (`jwks_uri`).
 */
import { createPublicKey } from 'node:crypto';
import type { FieldErrors } from '../lib/index.js';

/**
 * The token endpoint authentication methods a client can be registered for. `client_secret_jwt` is not one:
 * an HMAC over a secret the server must keep in plaintext adds nothing over `client_secret_basic` and a
 * private key JWT.
 */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** A JWK Set (RFC 7517 §5) as registered: public keys only. */
export interface PublicJwks {
  keys: Record<string, unknown>[];
}

/** JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The signature key types a client may sign its assertions with (no `oct`: no shared secrets). */
const KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/** Why `jwks` may not be registered, or an empty array: a set of 1–10 asymmetric public keys, none private. */
export function jwksProblems(jwks: unknown): string[] {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return ['A JWK Set is a JSON object {"keys": [...]} with at least one key.'];
  if (keys.length > 10) return ['A JWK Set holds at most 10 keys.'];
  return keys.flatMap((key: unknown, i) => {
    const jwk = (typeof key === 'object' && key !== null ? key : {}) as Record<string, unknown>;
    const name = `Key ${i + 1}${typeof jwk.kid === 'string' ? ` ("${jwk.kid}")` : ''}`;
    if (typeof jwk.kty !== 'string' || !KEY_TYPES.has(jwk.kty)) return [`${name} is not an RSA, EC or OKP key.`];
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) return [`${name} is a private key: register public keys only.`];
    if (jwk.use !== undefined && jwk.use !== 'sig') return [`${name} is not a signing key (use must be "sig").`];
    try {
      createPublicKey({ key: jwk as never, format: 'jwk' });
      return [];
    } catch {
      return [`${name} is not a valid public key.`];
    }
  });
}

/** Why `uri` may not be a `jwks_uri`, or null: an absolute https URL (plain http too when `development`), no fragment. */
export function jwksUriProblem(uri: string, development: boolean): string | null {
  const url = URL.parse(uri);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return `"${uri}" is not an absolute https URL.`;
  if (url.protocol === 'http:' && !development) return `"${uri}" must use https.`;
  if (uri.includes('#') || url.username || url.password) return `"${uri}" may have no fragment and no credentials.`;
  return null;
}

/** What {@link clientAuthenticationProblems} checks. */
export interface ClientAuthentication {
  tokenEndpointAuthMethod: ClientAuthMethod;
  jwks?: PublicJwks | undefined;
  jwksUri?: string | undefined;
  allowRefresh?: boolean | undefined;
  service: boolean;
}

/**
 * Adds to `errors` the problems of a client's authentication: `tokenEndpointAuthMethod` one of
 * {@link CLIENT_AUTH_METHODS} (`none` not for a service client), `jwks` xor `jwksUri` exactly for
 * `private_key_jwt`, `allowRefresh` only for a public client (`none`).
 */
export function clientAuthenticationProblems(client: ClientAuthentication, development: boolean, errors: FieldErrors): void {
  const method = client.tokenEndpointAuthMethod;
  if (!CLIENT_AUTH_METHODS.includes(method)) errors.tokenEndpointAuthMethod = [`Give one of ${CLIENT_AUTH_METHODS.join(', ')}.`];
  else if (method === 'none' && client.service) errors.tokenEndpointAuthMethod = ['A service client is confidential: it cannot be public.'];
  if (client.allowRefresh && method !== 'none') errors.allowRefresh = ['Only a public client needs to be allowed refresh tokens; confidential clients get them.'];
  const keyed = client.jwks !== undefined || client.jwksUri !== undefined;
  if (method !== 'private_key_jwt') {
    if (keyed) errors.jwks = ['Public keys (jwks or jwks_uri) belong to a private_key_jwt client.'];
    return;
  }
  if (client.jwks !== undefined && client.jwksUri !== undefined) errors.jwks = ['Give the keys either inline (jwks) or by URL (jwks_uri), not both.'];
  else if (!keyed) errors.jwks = ['A private_key_jwt client needs its public keys: a JWK Set or a jwks_uri.'];
  else if (client.jwks !== undefined) {
    const problems = jwksProblems(client.jwks);
    if (problems.length) errors.jwks = problems;
  } else {
    const problem = jwksUriProblem(client.jwksUri!, development);
    if (problem) errors.jwksUri = [problem];
  }
}
