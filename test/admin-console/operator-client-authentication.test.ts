/**
 * The operator console registers applications with each client authentication method (issue 11 §4, §5):
 * a secret in the Authorization header (default) or the form body, `private_key_jwt` with a JWK Set or a
 * `jwks_uri`, and public apps (`none`, PKCE) optionally allowed DPoP-bound refresh tokens. Real HTTP through the
 * console; the stored client is read back from the client store, and public and private_key_jwt clients sign in
 * through openid-client. Bad input gets field errors written for a person, 400, and nothing is saved.
 */
import { exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

type Who = { id: string; userId: string };
const REDIRECT = 'http://127.0.0.1:7841/cb';
const insecure = { execute: [client.allowInsecureRequests] };

describe('operator console: client authentication of a registered application', () => {
  let t: TestIdp;
  let c: TestConsole;
  let operator: Who;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    operator = await t.createAccount({ userId: 'cauth.operator', functions: [] });
    await t.idp.identity.accounts.setOperator(operator.id, true, 'test');
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const get = async (path: string) => request(c.app).get(path).set('Cookie', await c.cookieFor(operator, 'tok'));
  const register = async (form: Record<string, string>, csrf: string | null = 'tok') =>
    request(c.app).post('/operator/applications').set('Cookie', await c.cookieFor(operator, 'tok')).type('form').send({ ...(csrf === null ? {} : { _csrf: csrf }), redirectUris: REDIRECT, ...form });
  const publicJwks = async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    return { privateKey, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] } };
  };
  /** Signs a fresh account in at `rp` with code + PKCE and redeems the code. */
  let n = 0;
  async function signIn(rp: client.Configuration) {
    const user = await t.createAccount({ userId: `cauth.user${++n}` });
    const auth = await startAuthorization(rp, REDIRECT);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    return { user, tokens: await redeem(rp, callback, auth) };
  }

  it('shows the choice of client authentication as labelled fields with the CSRF token', async () => {
    const page = await get('/operator/applications');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<legend>Client authentication</legend>');
    for (const method of ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']) {
      expect(page.text).toContain(`<label for="tokenEndpointAuthMethod-${method}">`);
    }
    expect(page.text).toMatch(/id="tokenEndpointAuthMethod-client_secret_basic" name="tokenEndpointAuthMethod" value="client_secret_basic" [^>]*checked/);
    for (const field of ['jwks', 'jwksUri', 'allowRefresh']) expect(page.text).toContain(`<label for="${field}">`);
    expect(page.text).toContain('name="_csrf" value="tok"');
  });

  it('registers a client_secret_basic client by default and a client_secret_post one, showing each secret once', async () => {
    const basic = await register({ clientId: 'cauth-basic' });
    expect(basic.status).toBe(201);
    const stored = await t.idp.clients.find('cauth-basic');
    expect(stored).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_basic', jwks: null, jwksUri: null, allowRefresh: false });
    expect(basic.text).toContain(`value="${stored!.clientSecret}"`);

    const post = await register({ clientId: 'cauth-post', tokenEndpointAuthMethod: 'client_secret_post' });
    expect(post.status).toBe(201);
    const posted = await t.idp.clients.find('cauth-post');
    expect(posted).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_post' });
    expect(post.text).toContain(`value="${posted!.clientSecret}"`);
    const [event] = await t.idp.identity.stores.audit.list({ type: 'client.created' }).then((events) => events.filter((e) => e.data.clientId === 'cauth-post'));
    expect(event).toMatchObject({ actor: `operator:${operator.id}`, data: { clientId: 'cauth-post', tokenEndpointAuthMethod: 'client_secret_post' } });
  });

  it('registers a public app (CSRF token required, no secret shown) that signs in with PKCE and no secret, with DPoP-bound refresh allowed', async () => {
    const noCsrf = await register({ clientId: 'cauth-spa', tokenEndpointAuthMethod: 'none', allowRefresh: 'yes' }, null);
    expect(noCsrf.status).toBe(403);
    expect(await t.idp.clients.find('cauth-spa')).toBeNull();
    const res = await register({ clientId: 'cauth-spa', clientName: 'Single-page app', tokenEndpointAuthMethod: 'none', allowRefresh: 'yes' });
    expect(res.status).toBe(201);
    expect(res.text).not.toContain('id="client-secret"');
    expect(res.text).toContain('No client secret');
    const stored = await t.idp.clients.find('cauth-spa');
    expect(stored).toMatchObject({ tokenEndpointAuthMethod: 'none', allowRefresh: true });
    expect(res.text).not.toContain(stored!.clientSecret);
    const [event] = await t.idp.identity.stores.audit.list({ type: 'client.created' }).then((events) => events.filter((e) => e.data.clientId === 'cauth-spa'));
    expect(event?.data).toMatchObject({ tokenEndpointAuthMethod: 'none' });

    const rp = await client.discovery(new URL(t.issuer), 'cauth-spa', {}, client.None(), insecure);
    const { user, tokens } = await signIn(rp);
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  it('registers private_key_jwt clients from a pasted JWK Set (it signs in with its key, no secret) and from a jwks_uri', async () => {
    const { privateKey, jwks } = await publicJwks();
    const res = await register({ clientId: 'cauth-pkjwt', tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify(jwks, null, 2) });
    expect(res.status).toBe(201);
    expect(res.text).not.toContain('id="client-secret"');
    expect(await t.idp.clients.find('cauth-pkjwt')).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kid: 'k1', kty: 'EC' }] }, jwksUri: null });
    const rp = await client.discovery(new URL(t.issuer), 'cauth-pkjwt', {}, client.PrivateKeyJwt({ key: privateKey, kid: 'k1' }), insecure);
    const { user, tokens } = await signIn(rp);
    expect(tokens.claims()?.sub).toBe(user.id);

    const byUri = await register({ clientId: 'cauth-pkuri', tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'https://pk.example.com/jwks.json' });
    expect(byUri.status).toBe(201);
    expect(await t.idp.clients.find('cauth-pkuri')).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: null, jwksUri: 'https://pk.example.com/jwks.json' });
  });

  it('lists each client with its authentication method', async () => {
    const list = await get('/operator/applications');
    expect(list.status).toBe(200);
    const rowOf = (clientId: string) => list.text.slice(list.text.indexOf(`<span class="code">${clientId}</span>`)).split('</tr>')[0]!;
    expect(rowOf('cauth-basic')).toContain('(client_secret_basic)');
    expect(rowOf('cauth-post')).toContain('(client_secret_post)');
    expect(rowOf('cauth-pkjwt')).toContain('Signed JWT with public keys');
    expect(rowOf('cauth-spa')).toContain('No secret: public app (PKCE)');
    expect(rowOf('cauth-spa')).toContain('refresh tokens allowed (DPoP-bound)');
    expect(rowOf('cauth-basic')).not.toContain('refresh tokens allowed');
  });

  it.each([
    ['JWK Set text that is not JSON', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: '{"keys": [' }, 'jwks', 'This is not JSON: paste the application&#39;s public keys as a JWK Set'],
    ['both a JWK Set and a jwks_uri', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: 'PUBLIC', jwksUri: 'https://pk.example.com/jwks.json' }, 'jwks', 'not both'],
    ['private_key_jwt without keys', { tokenEndpointAuthMethod: 'private_key_jwt' }, 'jwks', 'needs its public keys'],
    ['a plain http jwks_uri', { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://pk.example.com/jwks.json' }, 'jwksUri', 'must use https'],
    ['keys for a client with a secret', { tokenEndpointAuthMethod: 'client_secret_basic', jwks: 'PUBLIC' }, 'jwks', 'belong to a private_key_jwt client'],
    ['refresh allowed without a public app', { tokenEndpointAuthMethod: 'client_secret_basic', allowRefresh: 'yes' }, 'allowRefresh', 'only for a public app'],
    ['an unknown method', { tokenEndpointAuthMethod: 'client_secret_jwt' }, 'tokenEndpointAuthMethod', 'Choose how the application authenticates'],
  ])('refuses %s with a field error, 400, and saves nothing', async (_what, form, field, message) => {
    const { jwks } = await publicJwks();
    const values = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v === 'PUBLIC' ? JSON.stringify(jwks) : v]));
    const clientId = `cauth-bad-${Math.random().toString(36).slice(2, 8)}`;
    const res = await register({ clientId, ...values });
    expect(res.status).toBe(400);
    expect(res.text).toContain(`id="${field}-error"`);
    expect(res.text).toContain(message);
    expect(res.text).toMatch(new RegExp(`id="${field}(-[a-z_]+)?"[^>]*aria-invalid="true"`));
    expect(res.text).not.toMatch(/invalid_type|Expected |ZodError|SyntaxError|Unexpected token/);
    expect(await t.idp.clients.find(clientId)).toBeNull();
  });

  it('refuses a private key pasted as the JWK Set, keeping the form filled in', async () => {
    const { privateKey } = await publicJwks();
    const clientId = 'cauth-private';
    const res = await register({ clientId, tokenEndpointAuthMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'oops' }] }) });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Key 1 (&#34;oops&#34;) is a private key: register public keys only.');
    expect(res.text).toMatch(/value="private_key_jwt"[^>]*checked/);
    expect(res.text).toContain(`value="${clientId}"`);
    expect(await t.idp.clients.find(clientId)).toBeNull();
  });
});
