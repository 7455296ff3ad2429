/**
 * The baseline: bare oidc-provider 9 in memory (its default memory adapter), one confidential client, a
 * `findAccount` that returns fixed claims, and an interaction that signs in and consents at once. Started by
 * the bench as its own process (`node --import tsx bench/baseline-provider.ts`, like the server) so that its
 * CPU and memory are measured the same way. Token-shaping options match connect-iam's (idp/configuration.ts:
 * RS256 key of 2048 bits, scopes and their claims in the ID token, PKCE, refresh-token rotation, the same TTLs), so that the ratio
 * shows what connect-iam adds: storage, pages, account views, plumbing.
 *
 * Environment: `PORT`, `CLIENT_ID`, `CLIENT_SECRET`, `REDIRECT_URI`. Prints one JSON line `{"ready":true}`.
 */
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
// @ts-ignore -- oidc-provider has no type declarations (see idp/oidc.ts); only its documented API is used here.
import * as oidcProvider from 'oidc-provider';

/** The few members of oidc-provider used here. */
interface BareProvider {
  Grant: new (init: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ params: Record<string, string> }>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: object, options: { mergeWithLastSubmission: boolean }): Promise<void>;
  callback(): http.RequestListener;
}

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
const jwk = { ...(await exportJWK(privateKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
const ACCOUNT = { sub: 'bench-account', name: 'Bench Account', email: 'bench@example.com', email_verified: true, organization: { id: 'org', name: 'Bench Ltd', participant_ids: ['B00001'] }, functions: ['EU_UserMaintenance'] };
const SCOPE_CLAIMS = { openid: ['sub', 'amr', 'auth_time'], profile: ['name'], email: ['email', 'email_verified'], organization: ['organization', 'functions'] };

const { Provider } = oidcProvider as unknown as { Provider: new (issuer: string, configuration: object) => BareProvider };
const provider = new Provider(issuer, {
  clients: [{ client_id: process.env.CLIENT_ID, client_secret: process.env.CLIENT_SECRET, redirect_uris: [process.env.REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['bench-baseline-cookie-key-of-at-least-32-chars'] },
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'organization'],
  claims: SCOPE_CLAIMS,
  conformIdTokenClaims: false,
  // As connect-iam: every use of a refresh token returns a new one (docs/tokens-and-claims.md, RFC 9700 §4.14.2).
  rotateRefreshToken: true,
  features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
  findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ ...ACCOUNT, sub }) }),
  interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, RefreshToken: 28800, Interaction: 900, Session: 28800, Grant: 28800 },
});

const protocol = provider.callback();
/** Signs `bench-account` in and grants every requested scope, at once. */
async function finishInteraction(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const grant = new provider.Grant({ accountId: ACCOUNT.sub, clientId: details.params.client_id! });
  grant.addOIDCScope(details.params.scope!);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

const server = http.createServer((req, res) => {
  if (!req.url?.startsWith('/interaction/')) return protocol(req, res);
  finishInteraction(req, res).catch((error: unknown) => {
    res.writeHead(500).end(String(error));
  });
});
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ ready: true, issuer })));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
