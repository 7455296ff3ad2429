/**
 * The gateway's side of connect-iam's SFTP authorization API (docs/sftp.md): the gateway is a registered service
 * client that serves `urn:connect-iam:ecp-sftp`. It gets a `client_credentials` access token for that resource
 * through openid-client (client secret, or `private_key_jwt` with its private key, RFC 7523) and calls
 * `POST /sftp/authorizations` and `POST /sftp/receipts` with it as a Bearer token (RFC 6750). The token is reused
 * until shortly before it expires, and fetched again once when the API answers 401.
 */
import * as oidc from 'openid-client';
import { z } from 'zod';

/** The resource indicator (RFC 8707) of the SFTP authorization API. */
export const ECP_SFTP_RESOURCE = 'urn:connect-iam:ecp-sftp';

const folderSchema = z.object({ name: z.string(), kind: z.enum(['submission', 'download']) });
const answerSchema = z.object({
  allowed: z.boolean(),
  reason: z.string(),
  accountId: z.string().nullable(),
  organization: z.object({ id: z.string(), name: z.string(), participantIds: z.array(z.string()) }).nullable(),
  folders: z.array(folderSchema),
  maxAgeSeconds: z.number().int().positive(),
});

/** connect-iam's answer: whether the connection may go on, why, for which organization, into which folders. */
export type SftpAuthorization = z.infer<typeof answerSchema>;

/** What the gateway asks about: who connects, with which key, from where. */
export interface SftpConnectionRequest {
  userId: string;
  /** `SHA256:<unpadded base64>` of the public key the client proved it holds. */
  fingerprint: string;
  sourceIp: string;
}

/** An upload to report, so its SHA-256 receipt shows in the audit log. */
export interface SftpReceiptRequest {
  userId: string;
  fingerprint: string;
  sourceIp: string;
  organizationId: string;
  folder: string;
  fileName: string;
  bytes: number;
  sha256: string;
}

/** How the gateway authenticates: its client secret (HTTP Basic), or its private key (`private_key_jwt`). */
export type GatewayCredentials = { clientSecret: string } | { privateKey: oidc.CryptoKey | oidc.PrivateKey };

/** Options of {@link createAuthorizationClient}. */
export interface AuthorizationClientOptions {
  /** connect-iam's issuer URL (discovery is read from it). */
  issuer: string;
  clientId: string;
  credentials: GatewayCredentials;
  /** Allow an http issuer (development and tests). */
  allowInsecureRequests?: boolean;
}

/** Calls to connect-iam's SFTP authorization API. */
export interface AuthorizationClient {
  /** @throws Error when connect-iam cannot be reached or answers otherwise than 200 (the gateway then refuses). */
  authorize(request: SftpConnectionRequest): Promise<SftpAuthorization>;
  /** @throws Error when the receipt was not recorded (answer other than 201). */
  recordReceipt(receipt: SftpReceiptRequest): Promise<void>;
}

/** Seconds before its expiry that a cached access token is replaced. */
const TOKEN_MARGIN_SECONDS = 30;

/**
 * Discovers the issuer and returns the client.
 * @throws what openid-client's discovery throws (unreachable issuer, bad metadata).
 */
export async function createAuthorizationClient(options: AuthorizationClientOptions): Promise<AuthorizationClient> {
  const auth = 'clientSecret' in options.credentials ? oidc.ClientSecretBasic(options.credentials.clientSecret) : oidc.PrivateKeyJwt(options.credentials.privateKey);
  const execute = options.allowInsecureRequests ? [oidc.allowInsecureRequests] : [];
  const config = await oidc.discovery(new URL(options.issuer), options.clientId, undefined, auth, { execute });
  const base = options.issuer.replace(/\/$/, '');
  let token: { value: string; expiresAt: number } | null = null;

  const accessToken = async (): Promise<string> => {
    if (token && token.expiresAt - TOKEN_MARGIN_SECONDS * 1000 > Date.now()) return token.value;
    const tokens = await oidc.clientCredentialsGrant(config, { resource: ECP_SFTP_RESOURCE });
    token = { value: tokens.access_token, expiresAt: Date.now() + (tokens.expiresIn() ?? 60) * 1000 };
    return token.value;
  };
  const post = async (path: string, body: object): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json' });
      const res = await oidc.fetchProtectedResource(config, await accessToken(), new URL(`${base}${path}`), 'POST', JSON.stringify(body), headers);
      if (res.status !== 401 || attempt > 0) return res;
      token = null; // revoked or expired early: get a new one, once
    }
  };

  return {
    async authorize(request) {
      const res = await post('/sftp/authorizations', request);
      if (res.status !== 200) throw new Error(`SFTP authorization answered ${res.status}: ${await res.text()}`);
      return answerSchema.parse(await res.json());
    },
    async recordReceipt(receipt) {
      const res = await post('/sftp/receipts', receipt);
      if (res.status !== 201) throw new Error(`SFTP receipt answered ${res.status}: ${await res.text()}`);
    },
  };
}
