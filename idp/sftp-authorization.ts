/**
 * The SFTP authorization API (issue 14 §2, docs/sftp.md) for SFTP gateways. A gateway is a service client the
 * operator registered as the resource server of {@link ECP_SFTP_RESOURCE} (`client create --service … --serves
 * urn:connect-iam:ecp-sftp`). It authenticates at the token endpoint as oidc-provider allows (client secret or
 * `private_key_jwt`, RFC 7523), gets a `client_credentials` access token for that resource — opaque, stored, so
 * revocable — and calls, as a Bearer token (RFC 6750):
 *
 * - `POST /sftp/authorizations` `{ userId, fingerprint, sourceIp }` → 200 with the decision
 *   (identity's `SftpDecisions.decide`) and `Cache-Control: private, max-age=<SFTP_DECISION_TTL_SECONDS>`;
 * - `POST /sftp/receipts` `{ userId, fingerprint, sourceIp, organizationId, folder, fileName, bytes, sha256 }` → 201.
 *
 * Bad input answers 400 `{ error: "invalid_request", fieldErrors }`; a missing, unknown or expired token, or one
 * of a client that no longer serves the resource, 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
 */
import express from 'express';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { SftpDecisions } from '../identity/index.js';
import { badRequestOf, DomainError, isUnavailable, randomToken, toFieldErrors, type Logger } from '../lib/index.js';
import { servedResources } from './introspection-policy.js';
import { oidcErrors, type OidcClient, type Provider } from './oidc.js';
import { RETRY_AFTER_SECONDS } from './unavailable.js';

/** The resource indicator (RFC 8707) of the SFTP authorization API. */
export const ECP_SFTP_RESOURCE = 'urn:connect-iam:ecp-sftp';

/**
 * oidc-provider's resource server for {@link ECP_SFTP_RESOURCE}: opaque access tokens, only for clients registered
 * as its resource server (`served_resources`), so no member firm's service client can ask about anyone's access.
 * @throws oidc-provider's `InvalidTarget` for every other client.
 */
export function sftpResourceServerInfo(client: OidcClient | undefined, accessTokenTTL: number): Record<string, unknown> {
  if (!client || !servedResources(client).includes(ECP_SFTP_RESOURCE)) throw new oidcErrors.InvalidTarget('this client is not an SFTP gateway');
  return { scope: '', audience: ECP_SFTP_RESOURCE, accessTokenTTL, accessTokenFormat: 'opaque' };
}

const text = (max: number) => z.string().min(1, 'Required.').max(max, `At most ${max} characters.`).refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'No control characters.');
const connection = {
  userId: text(100),
  fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'An SSH key fingerprint as ssh-keygen -l prints it: SHA256: and 43 base64 characters.'),
  sourceIp: z.string().max(64).refine((v) => ipaddr.isValid(v), 'An IPv4 or IPv6 address.'),
};
const authorizationBody = z.object(connection).strict();
const receiptBody = z
  .object({
    ...connection,
    organizationId: z.uuid('An organization id (UUID).'),
    folder: text(100),
    fileName: text(255).refine((v) => !v.includes('/') && !v.startsWith('.'), 'A file name without / that does not start with a dot.'),
    bytes: z.number().int('A whole number of bytes.').min(0).max(Number.MAX_SAFE_INTEGER),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'The SHA-256 in 64 lower-case hex digits.'),
  })
  .strict();

/** What {@link sftpAuthorizationRouter} needs. */
export interface SftpAuthorizationDeps {
  provider: Provider;
  decisions: SftpDecisions;
  logger: Logger;
}

/** The router, mounted at `/sftp` of the IdP. */
export function sftpAuthorizationRouter(deps: SftpAuthorizationDeps): express.Router {
  const { provider, decisions } = deps;
  const router = express.Router();
  router.use(express.json({ limit: '4kb', type: () => true }));

  /** The gateway's client id, from its Bearer token; null when the token does not do. */
  const gatewayOf = async (req: express.Request): Promise<string | null> => {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.get('authorization') ?? '');
    const token = match && (await provider.ClientCredentials.find(match[1]!));
    if (!token?.clientId || token.isExpired || ![token.aud].flat().includes(ECP_SFTP_RESOURCE)) return null;
    const client = await provider.Client.find(token.clientId);
    return client && servedResources(client).includes(ECP_SFTP_RESOURCE) ? client.clientId : null;
  };
  const handle = <T extends z.ZodType>(schema: T, work: (gateway: string, body: z.infer<T>, res: express.Response) => Promise<void>) =>
    (async (req, res) => {
      res.set('Cache-Control', 'no-store');
      const gateway = await gatewayOf(req);
      if (!gateway) return void res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').json({ error: 'invalid_token' });
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) return void res.status(400).json({ error: 'invalid_request', fieldErrors: toFieldErrors(parsed.error.issues) });
      await work(gateway, parsed.data, res);
    }) satisfies express.RequestHandler;

  router.post('/authorizations', handle(authorizationBody, async (gateway, body, res) => {
    const decision = await decisions.decide({ ...body, gateway });
    res.set('Cache-Control', `private, max-age=${decision.maxAgeSeconds}`).json(decision);
  }));

  router.post('/receipts', handle(receiptBody, async (gateway, body, res) => {
    const { eventId } = await decisions.recordReceipt({ ...body, gateway });
    res.status(201).json({ recorded: true, eventId });
  }));

  // JSON answers only, never a page or a stack trace: 4xx with field errors, 503 when the database is down, else 500.
  router.use(((error, req, res, _next) => {
    res.set('Cache-Control', 'no-store');
    if (error instanceof DomainError && error.status < 500) {
      return void res.status(error.status).json({ error: error.code === 'validation_failed' ? 'invalid_request' : error.code, fieldErrors: error.fieldErrors });
    }
    const bad = badRequestOf(error);
    if (bad) return void res.status(bad.status).json({ error: 'invalid_request', fieldErrors: { form: ['The body must be a JSON object of at most 4 kB.'] } });
    const errorId = randomToken(9);
    const unavailable = isUnavailable(error);
    deps.logger.error({ err: error, errorId, path: req.path }, 'SFTP authorization request failed');
    if (unavailable) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(unavailable ? 503 : 500).json({ error: unavailable ? 'temporarily_unavailable' : 'server_error', errorId });
  }) satisfies express.ErrorRequestHandler);
  return router;
}
