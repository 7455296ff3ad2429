/**
 * Interop (issue 11 §10): the machine-to-machine path. A member firm's back-office system, a service client,
 * gets a `client_credentials` access token with oauth4webapi; the portal API it calls validates it as an
 * RFC 9068 JWT access token with oauth4webapi's resource-server helper. For an API that introspects
 * (`INTROSPECTED_RESOURCES`) the token is opaque: its resource server introspects it with oauth4webapi (RFC 7662)
 * and sees it inactive right after the back-office system revokes it (RFC 7009).
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';

const PORTAL_API = 'urn:connect-iam:portal-api';
const LEDGER_API = 'https://ledger.example.com/api';
const insecure = { [oauth.allowInsecureRequests]: true };

let t: TestIdp;
let organizationId: string;
let as: oauth.AuthorizationServer;
let service: { client: oauth.Client; auth: oauth.ClientAuth };
let ledger: { client: oauth.Client; auth: oauth.ClientAuth };

beforeAll(async () => {
  t = await startTestIdp({ INTROSPECTED_RESOURCES: LEDGER_API });
  organizationId = await t.organization();
  const created = await t.idp.clients.create({ clientId: 'interop-backoffice', redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service: { organizationId, functions: ['EU_ECPSFTP'] } });
  const issuer = new URL(t.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  service = { client: { client_id: created.clientId }, auth: oauth.ClientSecretBasic(created.clientSecret!) };
  // The ledger API's server: a confidential client registered as the resource server of LEDGER_API (--serves).
  const server = await t.idp.clients.create({ clientId: 'interop-ledger-api', redirectUris: ['http://127.0.0.1:7862/cb'], postLogoutRedirectUris: [], firstParty: true, servedResources: [LEDGER_API] });
  ledger = { client: { client_id: server.clientId }, auth: oauth.ClientSecretBasic(server.clientSecret) };
});
afterAll(() => t?.close());

const clientCredentials = async (parameters: Record<string, string> = {}) => oauth.processClientCredentialsResponse(as, service.client, await oauth.clientCredentialsGrantRequest(as, service.client, service.auth, parameters, insecure));
const introspect = async (token: string) => oauth.processIntrospectionResponse(as, ledger.client, await oauth.introspectionRequest(as, ledger.client, ledger.auth, token, insecure));

describe('client_credentials', () => {
  it('is advertised in discovery, with the introspection endpoint', () => {
    expect(as.grant_types_supported).toContain('client_credentials');
    expect(as.introspection_endpoint).toBe(`${t.issuer}/token/introspection`);
  });

  it('gives a service client an RFC 9068 access token that a resource server validates with oauth4webapi: client_id, the organization and the functions, no refresh token', async () => {
    const tokens = await clientCredentials();
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    const request = new Request('http://127.0.0.1:7861/api/files', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, PORTAL_API, insecure);
    expect(claims).toMatchObject({ iss: t.issuer, aud: PORTAL_API, sub: 'interop-backoffice', client_id: 'interop-backoffice', functions: ['EU_ECPSFTP'] });
    expect(claims.organization).toMatchObject({ id: organizationId });
    expect(claims.exp - claims.iat).toBe(t.config.ttl.accessTokenSeconds);
    // A resource server expecting another audience refuses it.
    await expect(oauth.validateJwtAccessToken(as, request, 'urn:example:other-api', insecure)).rejects.toThrow();
  });

  it('gives an opaque token for an introspected API, which its resource server introspects with oauth4webapi and sees inactive once revoked', async () => {
    const tokens = await clientCredentials({ resource: LEDGER_API });
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const active = await introspect(tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: 'interop-backoffice', aud: LEDGER_API, iss: t.issuer, functions: ['EU_ECPSFTP'] });
    expect(active.organization).toMatchObject({ id: organizationId });
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, service.client, service.auth, tokens.access_token, insecure));
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });
});
