/**
 * A small OpenID Provider for portal-adapters tests: a real HTTP server publishing a discovery document,
 * a JWKS and a token endpoint, signing with a real RS256 key (jose). It checks client_secret_basic and the
 * PKCE verifier, and issues ID tokens bound to the nonce of the authorization request it is shown.
 * Not an IdP: the end-to-end tests against connect-iam itself live with the IdP.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from 'jose';

export interface TestIssuer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Approves an authorization request URL (from `/auth/login`) and returns the redirect back to the client. */
  authorize(authorizationUrl: string, claims: JWTPayload): URL;
  /**
   * Signs a JWT with the issuer's key; defaults make a valid RFC 9068 access token for `audience`. `typ: null`
   * leaves the header without `typ`; `issuedAt` (seconds since the epoch) replaces now as `iat`.
   */
  signAccessToken(audience: string, overrides?: { claims?: JWTPayload; typ?: string | null; expiresInSeconds?: number; key?: CryptoKey; issuedAt?: number }): Promise<string>;
  close(): Promise<void>;
}

interface PendingCode { claims: JWTPayload; nonce: string; codeChallenge: string; redirectUri: string }

export async function startTestIssuer(clientId = 'portal-test', clientSecret = 'portal-test-secret'): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, PendingCode>();
  let issuer = '';

  const sign = (payload: JWTPayload, typ: string | null, expiresInSeconds: number, key: CryptoKey = privateKey, issuedAt?: number) =>
    new SignJWT({ iss: issuer, ...payload }).setProtectedHeader({ alg: 'RS256', kid: 'test-key', ...(typ === null ? {} : { typ }) }).setIssuedAt(issuedAt)
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds).sign(key);

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/.well-known/openid-configuration') return send(200, metadata(issuer));
    if (path === '/jwks') return send(200, { keys: [jwk] });
    if (path !== '/token' || req.method !== 'POST') return send(404, { error: 'not_found' });
    const form = new URLSearchParams(await readBody(req));
    const [id, secret] = basicCredentials(req.headers.authorization);
    if (id !== clientId || secret !== clientSecret) return send(401, { error: 'invalid_client' });
    const pending = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const verifier = form.get('code_verifier') ?? '';
    if (!pending || pending.redirectUri !== form.get('redirect_uri') || pending.codeChallenge !== createHash('sha256').update(verifier).digest('base64url')) {
      return send(400, { error: 'invalid_grant' });
    }
    const idToken = await sign({ ...pending.claims, aud: clientId, nonce: pending.nonce }, 'JWT', 600);
    send(200, { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 600, id_token: idToken });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    clientId,
    clientSecret,
    authorize(authorizationUrl, claims) {
      const request = new URL(authorizationUrl).searchParams;
      const code = randomBytes(16).toString('base64url');
      const redirectUri = request.get('redirect_uri')!;
      codes.set(code, { claims, nonce: request.get('nonce')!, codeChallenge: request.get('code_challenge')!, redirectUri });
      const back = new URL(redirectUri);
      back.search = new URLSearchParams({ code, state: request.get('state')!, iss: issuer }).toString();
      return back;
    },
    signAccessToken(audience, overrides = {}) {
      const claims = { sub: 'account-1', client_id: clientId, jti: randomBytes(8).toString('hex'), scope: 'openid', aud: audience, ...overrides.claims };
      return sign(claims, overrides.typ === undefined ? 'at+jwt' : overrides.typ, overrides.expiresInSeconds ?? 300, overrides.key, overrides.issuedAt);
    },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

function metadata(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    end_session_endpoint: `${issuer}/session/end`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic'],
    authorization_response_iss_parameter_supported: true,
  };
}

/** client_secret_basic: form-urlencoded id and secret, base64 (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): string[] {
  const decoded = Buffer.from((header ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
  return decoded.split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
