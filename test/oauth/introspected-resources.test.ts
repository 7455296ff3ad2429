/**
 * Resources whose servers introspect (issue 11 §3): an API listed in `INTROSPECTED_RESOURCES` gets opaque access
 * tokens (oidc-provider's `getResourceServerInfo` → `accessTokenFormat: 'opaque'`), so its server, registered as
 * the resource server of it (`served_resources`), sees at the introspection endpoint (RFC 7662) that a token is
 * dead right after revocation, RP-initiated logout or suspension, long before it would expire. The portal API
 * keeps JWTs (RFC 9068), which oidc-provider does not introspect.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/index.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const LEDGER = 'https://ledger.example.com/api';
const PORTAL_API = 'urn:connect-iam:portal-api';
const PORTAL = 'http://localhost:7851/cb';
const SIGNED_OUT = 'http://localhost:7851/';

let t: TestIdp;
let portal: client.Configuration;
let ledgerServer: client.Configuration;
let portalApiServer: client.Configuration;
let organizationId: string;
let n = 0;

/** A confidential client registered the way the CLI does it (`client create … --serves RESOURCE`). */
async function register(clientId: string, extra: { servedResources?: string[]; redirectUris?: string[]; postLogoutRedirectUris?: string[]; service?: { organizationId: string; functions: string[] } }) {
  const created = await t.idp.clients.create({ clientId, redirectUris: extra.service ? [] : [`http://localhost:7852/${clientId}`], postLogoutRedirectUris: [], firstParty: !extra.service, ...extra });
  return client.discovery(new URL(t.issuer), created.clientId, created.clientSecret!, undefined, { execute: [client.allowInsecureRequests] });
}

beforeAll(async () => {
  t = await startTestIdp({ INTROSPECTED_RESOURCES: LEDGER });
  organizationId = await t.organization();
  portal = await register('ir-portal', { redirectUris: [PORTAL], postLogoutRedirectUris: [SIGNED_OUT] });
  ledgerServer = await register('ir-ledger-api', { servedResources: [LEDGER] });
  portalApiServer = await register('ir-portal-api', { servedResources: [PORTAL_API] });
});
afterAll(() => t?.close());

/** A person signs in through the portal asking for the ledger API; returns the tokens and the browser. */
async function ledgerTokens(scope = 'openid organization offline_access') {
  const ua = new UserAgent();
  const user = await t.createAccount({ userId: `ir.user${++n}`, functions: ['EU_UserMaintenance'] });
  const auth = await startAuthorization(portal, PORTAL, { scope, resource: LEDGER });
  const callback = await signInToCallback({ ua, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
  const tokens = await client.authorizationCodeGrant(portal, callback, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce }, { resource: LEDGER });
  return { ua, user, tokens };
}

const introspect = (token: string) => client.tokenIntrospection(ledgerServer, token);

describe('an introspected resource', () => {
  it('gets opaque access tokens that its server introspects: sub, aud, scope, organization, functions, amr, auth_time', async () => {
    const { user, tokens } = await ledgerTokens();
    expect(tokens.access_token.split('.')).toHaveLength(1); // not a JWS
    const answer = await introspect(tokens.access_token);
    expect(answer).toMatchObject({ active: true, sub: user.id, client_id: 'ir-portal', aud: LEDGER, scope: 'organization', token_type: 'Bearer', iss: t.issuer, functions: ['EU_UserMaintenance'] });
    expect(answer.organization).toMatchObject({ id: organizationId });
    expect(answer.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(answer.auth_time).toBe(tokens.claims()!.auth_time);
    expect(answer.exp! - answer.iat!).toBe(t.config.ttl.accessTokenSeconds);
    // The ledger's token is no portal API token: the portal API's server may not read it.
    expect(await client.tokenIntrospection(portalApiServer, tokens.access_token)).toEqual({ active: false });
  });

  it('shows a revoked access token inactive at once', async () => {
    const { tokens } = await ledgerTokens();
    expect((await introspect(tokens.access_token)).active).toBe(true);
    // Only the client it was issued to may revoke it (RFC 7009 §2.1): not even its resource server.
    await expect(client.tokenRevocation(ledgerServer, tokens.access_token)).rejects.toMatchObject({ error: 'invalid_request' });
    expect((await introspect(tokens.access_token)).active).toBe(true);
    await client.tokenRevocation(portal, tokens.access_token);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it('shows the access token inactive once its refresh token is revoked (the grant ends)', async () => {
    const { tokens } = await ledgerTokens();
    const refreshed = await client.refreshTokenGrant(portal, tokens.refresh_token!, { resource: LEDGER });
    expect(await introspect(refreshed.access_token)).toMatchObject({ active: true, aud: LEDGER });
    await client.tokenRevocation(portal, refreshed.refresh_token!);
    expect(await introspect(refreshed.access_token)).toEqual({ active: false });
  });

  it('shows the access token inactive after RP-initiated logout of the session', async () => {
    const { ua, tokens } = await ledgerTokens();
    expect((await introspect(tokens.access_token)).active).toBe(true);
    const logoutPage = await ua.follow(client.buildEndSessionUrl(portal, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SIGNED_OUT }).toString());
    const after = await ua.submit(logoutPage, {}, { button: 'Sign out', stopAt: (next) => next.startsWith(SIGNED_OUT) });
    expect(after.redirectedTo).toBe(SIGNED_OUT);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it('shows the access token inactive once the account is suspended', async () => {
    const da1 = await t.createAccount({ userId: `ir.da1.${++n}`, delegatedAdministrator: true });
    const da2 = await t.createAccount({ userId: `ir.da2.${n}`, delegatedAdministrator: true });
    const { user, tokens } = await ledgerTokens();
    expect((await introspect(tokens.access_token)).active).toBe(true);
    const requests = t.idp.identity.changeRequests;
    const draft = await requests.createDraft({ accountId: da1.id }, { organizationId, type: 'suspend_account', payload: { accountId: user.id } });
    await requests.submit({ accountId: da1.id }, draft.id);
    const claimed = await requests.claim({ accountId: da2.id }, draft.id);
    expect((await requests.confirm({ accountId: da2.id }, draft.id, claimed.version)).status).toBe('completed');
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it("gives a service client an opaque token for it, with the organization and functions, inactive once revoked", async () => {
    const service = await register('ir-backoffice', { service: { organizationId, functions: ['EU_ECPSFTP'] } });
    const tokens = await client.clientCredentialsGrant(service, { resource: LEDGER });
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const answer = await introspect(tokens.access_token);
    expect(answer).toMatchObject({ active: true, client_id: 'ir-backoffice', aud: LEDGER, functions: ['EU_ECPSFTP'] });
    expect(answer.organization).toMatchObject({ id: organizationId });
    await client.tokenRevocation(service, tokens.access_token);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it('leaves the portal API with JWT access tokens, which oidc-provider does not introspect', async () => {
    const service = await register('ir-backoffice-jwt', { service: { organizationId, functions: ['EU_ECPSFTP'] } });
    const tokens = await client.clientCredentialsGrant(service, { resource: PORTAL_API });
    expect(tokens.access_token.split('.')).toHaveLength(3);
    await expect(client.tokenIntrospection(portalApiServer, tokens.access_token)).rejects.toMatchObject({ error: 'unsupported_token_type' });
  });

  it('refuses a resource that is neither the portal API nor introspected (invalid_target)', async () => {
    const service = await register('ir-backoffice-other', { service: { organizationId, functions: ['EU_ECPSFTP'] } });
    await expect(client.clientCredentialsGrant(service, { resource: 'https://other.example.com/api' })).rejects.toMatchObject({ error: 'invalid_target' });
  });
});

describe('INTROSPECTED_RESOURCES', () => {
  it('takes absolute URIs, and refuses fragments, relative values and the portal API', () => {
    expect(loadConfig({ NODE_ENV: 'test', INTROSPECTED_RESOURCES: ` ${LEDGER}, urn:example:api ,${LEDGER}` }).introspectedResources).toEqual([LEDGER, 'urn:example:api']);
    expect(loadConfig({ NODE_ENV: 'test' }).introspectedResources).toEqual([]);
    expect(() => loadConfig({ NODE_ENV: 'test', INTROSPECTED_RESOURCES: 'ledger' })).toThrow(/INTROSPECTED_RESOURCES/);
    expect(() => loadConfig({ NODE_ENV: 'test', INTROSPECTED_RESOURCES: `${LEDGER}#x` })).toThrow(/INTROSPECTED_RESOURCES/);
    expect(() => loadConfig({ NODE_ENV: 'test', INTROSPECTED_RESOURCES: PORTAL_API })).toThrow(/portal API/);
  });
});
