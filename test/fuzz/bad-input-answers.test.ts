import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refuseNulInAdapter } from '../../idp/nul-refusing-adapter.js';
import { DomainError } from '../../lib/index.js';
import { createOidcAdapter } from '../../storage/index.js';
import { sealingKeysOf } from '../../server/wiring.js';
import { startTestConsole, type TestConsole } from '../admin-console/console-harness.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';
import type { Probe } from './mutations.js';
import { send } from './send.js';

const FORM = 'application/x-www-form-urlencoded';
const csrfOn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

/**
 * Issue 9, defect 6: what each kind of malformed request gets — the right 4xx with a message naming the
 * problem, never a 500 — on the IdP's pages, oidc-provider's endpoints, the console and the stores.
 */
describe('answers to malformed requests', () => {
  let t: TestIdp;
  let c: TestConsole;
  const ua = new UserAgent();
  let uid: string;
  let csrf: string;
  let clientId: string;
  let clientSecret: string;
  const redirectUri = 'http://localhost:1/callback';

  beforeAll(async () => {
    t = await startTestIdp();
    await t.createAccount({ userId: 'bad.input' });
    const rp = await t.registerClient({ clientId: 'bad-input-rp', redirectUri });
    ({ clientId, clientSecret } = rp);
    const page = await ua.follow((await startAuthorization(rp.rp, redirectUri)).url.toString());
    uid = /\/interaction\/([^/?]+)/.exec(page.url)![1]!;
    csrf = csrfOn(page.html);
    c = await startTestConsole(t);
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  /** POSTs `body` to the sign-in step with the interaction's cookies. */
  const signIn = async (body: string | Buffer, headers: Record<string, string> = { 'content-type': FORM }) => {
    const probe: Probe = { mutation: '', method: 'POST', path: `/interaction/${uid}/password`, headers, body: Buffer.from(body) };
    return send(t.issuer, probe, await ua.jar.getCookieString(`${t.issuer}/interaction/${uid}/password`));
  };
  const valid = () => new URLSearchParams({ _csrf: csrf, login: 'bad.input', password: 'wrong password' }).toString();

  it('refuses a NUL in the sign-in form with 400 naming the field', async () => {
    const res = await signIn(new URLSearchParams({ _csrf: csrf, login: 'bad\u0000input', password: 'x' }).toString());
    expect(res.status).toBe(400);
    expect(res.text).toContain('control characters');
    expect(res.text).toContain('(login)');
  });

  it('refuses other control characters in a form field but lets tab, CR and LF through to the handler', async () => {
    expect((await signIn(new URLSearchParams({ _csrf: csrf, login: 'bad\u001binput', password: 'x' }).toString())).status).toBe(400);
    const plain = await signIn(new URLSearchParams({ _csrf: csrf, login: 'bad.input\r\n\t', password: 'wrong password' }).toString());
    expect(plain.status).not.toBe(400);
    expect(plain.status).toBeLessThan(500);
  });

  it('answers body-parser errors on IdP forms with their 4xx: too many fields 413, unsupported charset or encoding 415, garbage 400', async () => {
    const many = `${valid()}&${Array.from({ length: 25 }, (_, i) => `p${i}=v`).join('&')}`;
    expect((await signIn(many)).status).toBe(413);
    expect((await signIn(valid(), { 'content-type': `${FORM}; charset=x-unknown` })).status).toBe(415);
    expect((await signIn(valid(), { 'content-type': FORM, 'content-encoding': 'x-unknown' })).status).toBe(415);
    const garbage = await signIn(Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0]), Buffer.from('garbage')]), { 'content-type': FORM, 'content-encoding': 'gzip' });
    expect(garbage.status).toBe(400);
    expect((await signIn(`${valid()}&pad=${'a'.repeat(1024 * 1024)}`)).status).toBe(413);
  });

  it('answers malformed percent-encoding in a path with 400', async () => {
    for (const path of [`/interaction/${uid}%FF`, '/interaction/%zz/password', '/password/reset/%E0%A4%A']) {
      const res = await send(t.issuer, { mutation: '', method: 'GET', path, headers: {} });
      expect(res.status, path).toBe(400);
      expect(res.text).toContain('not valid');
    }
  });

  it('refuses a NUL in the forgot-password form with 400', async () => {
    const page = await ua.request(`${t.issuer}/password/forgot`);
    const body = new URLSearchParams({ _csrf: csrfOn(page.html), login: 'bad\u0000input', phone: '+852 5555 0000' }).toString();
    const res = await send(t.issuer, { mutation: '', method: 'POST', path: '/password/forgot', headers: { 'content-type': FORM }, body: Buffer.from(body) }, await ua.jar.getCookieString(`${t.issuer}/password/forgot`));
    expect(res.status).toBe(400);
  });

  it('answers client_id=a%00b at /token with 400 invalid_request JSON', async () => {
    const body = Buffer.from(`grant_type=authorization_code&code=x&redirect_uri=${encodeURIComponent(redirectUri)}&client_id=a%00b&client_secret=s`);
    const res = await send(t.issuer, { mutation: '', method: 'POST', path: '/token', headers: { 'content-type': FORM, accept: 'application/json' }, body });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_request' });
  });

  it('answers a NUL in a /token parameter sent with a real client with 400 invalid_request JSON', async () => {
    const body = Buffer.from(`grant_type=refresh_token&refresh_token=a%00b`);
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    const res = await send(t.issuer, { mutation: '', method: 'POST', path: '/token', headers: { 'content-type': FORM, accept: 'application/json', authorization: `Basic ${basic}` }, body });
    expect(res.status).toBe(400);
        expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_request' });
  });

  it('answers a NUL in /auth\'s state with a 400 error page, and a NUL in a POSTed /auth nonce with a 4xx', async () => {
    const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'a\u0000b', nonce: 'n' });
    const res = await send(t.issuer, { mutation: '', method: 'GET', path: `/auth?${query}`, headers: {} });
    expect(res.status).toBe(400);
    expect(res.text).toContain('<html');
    query.set('state', 's');
    query.set('nonce', 'a\u0000b');
    const posted = await send(t.issuer, { mutation: '', method: 'POST', path: '/auth', headers: { 'content-type': FORM }, body: Buffer.from(query.toString()) });
    expect(posted.status).toBeGreaterThanOrEqual(300);
    expect(posted.status).toBeLessThan(500);
  });

  it('answers a NUL in the console\'s account search with 400', async () => {
    const operator = await t.createAccount({ userId: 'bad.input.da', delegatedAdministrator: true });
    const cookie = await c.cookieFor(operator, 'tok');
    const res = await send(c.url, { mutation: '', method: 'GET', path: '/accounts?text=a%00b', headers: {} }, cookie);
    expect(res.status).toBe(400);
    const charset = await send(c.url, { mutation: '', method: 'POST', path: '/organization', headers: { 'content-type': `${FORM}; charset=x-unknown` }, body: Buffer.from('_csrf=tok') }, cookie);
    expect(charset.status).toBe(415);
  });

  it('turns PostgreSQL\'s refusal of NUL into a 400 DomainError in every store', async () => {
    const refused = await t.idp.identity.stores.accounts.findByLogin('a\u0000b').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'validation_failed', status: 400 });
  });

  it('refuses a NUL in any oidc-provider adapter call with invalid_request before the database', async () => {
    const guarded = refuseNulInAdapter(createOidcAdapter(t.idp.database, { encryptionKey: sealingKeysOf(t.config) })) as (model: string) => { find(id: string): Promise<unknown> };
    const adapter = guarded('Client');
    await expect(adapter.find('a\u0000b')).rejects.toMatchObject({ error: 'invalid_request', statusCode: 400 });
    await expect(adapter.find('no-such-client')).resolves.toBeUndefined();
  });
});
