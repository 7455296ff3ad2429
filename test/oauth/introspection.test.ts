/**
 * Token introspection (RFC 7662, issue 11 §3): a confidential client may read its own tokens, and access
 * tokens whose audience is a resource it is registered as the resource server of (`served_resources`);
 * anyone else, and any revoked token, gets `{ "active": false }`.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introspectionAllowed } from '../../idp/introspection-policy.js';
import type { OidcClient, OidcContext } from '../../idp/oidc.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const PORTAL = 'http://localhost:7841/cb';
const PORTAL_API = 'urn:connect-iam:portal-api';

let t: TestIdp;
let portal: Awaited<ReturnType<TestIdp['registerClient']>>;
let other: Awaited<ReturnType<TestIdp['registerClient']>>;
let tokens: Awaited<ReturnType<typeof redeem>>;

beforeAll(async () => {
  t = await startTestIdp();
  portal = await t.registerClient({ clientId: 'intro-portal', redirectUri: PORTAL });
  other = await t.registerClient({ clientId: 'intro-other', redirectUri: 'http://localhost:7842/cb' });
  const user = await t.createAccount({ userId: 'intro.user' });
  const auth = await startAuthorization(portal.rp, PORTAL, { scope: 'openid profile offline_access' });
  tokens = await redeem(portal.rp, await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp }), auth);
});
afterAll(() => t?.close());

describe('introspection (RFC 7662)', () => {
  it('is advertised in discovery', () => {
    expect(portal.rp.serverMetadata().introspection_endpoint).toBe(`${t.issuer}/token/introspection`);
  });

  it('answers the client its own access and refresh tokens, with sub, client_id, amr and auth_time', async () => {
    const access = await client.tokenIntrospection(portal.rp, tokens.access_token);
    expect(access).toMatchObject({ active: true, client_id: 'intro-portal', sub: tokens.claims()!.sub, token_type: 'Bearer' });
    expect(access.amr).toEqual(expect.arrayContaining(['pwd', 'otp', 'mfa']));
    expect(access.auth_time).toBe(tokens.claims()!.auth_time);
    expect(await client.tokenIntrospection(portal.rp, tokens.refresh_token!)).toMatchObject({ active: true, client_id: 'intro-portal', sub: tokens.claims()!.sub });
  });

  it('answers active: false to another client for a token that was neither issued to it nor meant for a resource it serves', async () => {
    expect(await client.tokenIntrospection(other.rp, tokens.access_token)).toEqual({ active: false });
    expect(await client.tokenIntrospection(other.rp, tokens.refresh_token!)).toEqual({ active: false });
  });

  it('answers active: false for a revoked token', async () => {
    const auth = await startAuthorization(portal.rp, PORTAL, { scope: 'openid offline_access' });
    const ua = new UserAgent();
    const user = await t.createAccount({ userId: 'intro.revoked' });
    const own = await redeem(portal.rp, await signInToCallback({ ua, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp }), auth);
    expect((await client.tokenIntrospection(portal.rp, own.access_token)).active).toBe(true);
    await client.tokenRevocation(portal.rp, own.refresh_token!);
    expect(await client.tokenIntrospection(portal.rp, own.refresh_token!)).toEqual({ active: false });
    expect(await client.tokenIntrospection(portal.rp, own.access_token)).toEqual({ active: false });
  });

  it('refuses callers without client authentication', async () => {
    const res = await fetch(portal.rp.serverMetadata().introspection_endpoint!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: tokens.access_token, client_id: 'intro-portal' }) });
    expect(res.status).toBe(401);
  });
});

describe('the introspection policy', () => {
  const ctx = {} as OidcContext;
  const clientWith = (clientId: string, clientAuthMethod: string, served: string[] = []) =>
    ({ clientId, clientAuthMethod, metadata: () => ({ served_resources: served }) }) as unknown as OidcClient;
  const portalApiToken = { kind: 'AccessToken', clientId: 'some-portal', aud: PORTAL_API };

  it('lets a resource server registered for the token’s audience read it, and no one else', async () => {
    expect(await introspectionAllowed(ctx, clientWith('api-server', 'client_secret_basic', [PORTAL_API]), portalApiToken)).toBe(true);
    expect(await introspectionAllowed(ctx, clientWith('api-server', 'client_secret_basic', ['urn:other']), portalApiToken)).toBe(false);
    expect(await introspectionAllowed(ctx, clientWith('api-server', 'client_secret_basic', [PORTAL_API]), { kind: 'RefreshToken', clientId: 'some-portal' })).toBe(false);
  });

  it('refuses a public client, even for its own token', async () => {
    expect(await introspectionAllowed(ctx, clientWith('spa', 'none', [PORTAL_API]), { kind: 'AccessToken', clientId: 'spa', aud: PORTAL_API })).toBe(false);
  });
});
