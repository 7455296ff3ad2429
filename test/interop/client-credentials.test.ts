/**
 * Interop (issue 11 §10): the machine-to-machine path. A member firm's back-office system, a service client,
 * gets a `client_credentials` access token with oauth4webapi; the portal API it calls validates it as an
 * RFC 9068 JWT access token with oauth4webapi's resource-server helper.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';

const PORTAL_API = 'urn:connect-iam:portal-api';
const insecure = { [oauth.allowInsecureRequests]: true };

let t: TestIdp;
let organizationId: string;
let as: oauth.AuthorizationServer;
let service: { client: oauth.Client; auth: oauth.ClientAuth };

beforeAll(async () => {
  t = await startTestIdp();
  organizationId = await t.organization();
  const created = await t.idp.clients.create({ clientId: 'interop-backoffice', redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service: { organizationId, functions: ['EU_ECPSFTP'] } });
  const issuer = new URL(t.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  service = { client: { client_id: created.clientId }, auth: oauth.ClientSecretBasic(created.clientSecret!) };
});
afterAll(() => t?.close());

const clientCredentials = async () => oauth.processClientCredentialsResponse(as, service.client, await oauth.clientCredentialsGrantRequest(as, service.client, service.auth, {}, insecure));

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
});
