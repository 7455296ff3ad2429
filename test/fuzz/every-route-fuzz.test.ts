import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_FORMS } from '../../admin-console/account-detail-routes.js';
import { createEServicePortal } from '../../examples/eservice-portal/app.js';
import { createEcp } from '../../examples/ecp/app.js';
import { createSessionCodec } from '../../portal-adapters/index.js';
import { devOutboxRouter } from '../../server/dev-outbox.js';
import { registerFirstPartyClient } from '../../server/first-party-client.js';
import { wireIdp } from '../../server/wiring.js';
import { startTestConsole, type TestConsole } from '../admin-console/console-harness.js';
import { freePort } from '../support/browser.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';
import { mutationsOf, seededRandom, type Target } from './mutations.js';
import { routesOf, type Route } from '../support/routes.js';
import { problemOf, send } from './send.js';

/** A route to fuzz at an origin, with the cookie its requests carry. */
interface Fuzzed extends Target {
  origin: string;
  cookie: string | (() => Promise<string>);
}

/** Field names a view declares literally (`name="…"`), for the fields of every form of an app. */
async function viewFields(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of await readdir(dir, { recursive: true })) {
    if (!file.endsWith('.ejs')) continue;
    for (const m of (await readFile(path.join(dir, file), 'utf8')).matchAll(/name="([A-Za-z_][\w]*)"/g)) if (m[1] !== 'viewport') names.add(m[1]!);
  }
  return names;
}

/** Field names of the forms on a rendered page. */
const pageFields = (html: string) => [...html.matchAll(/<(?:input|select|textarea)[^>]*\sname="([^"]+)"/g)].map((m) => m[1]!);
const csrfOn = (html: string, name = '_csrf') => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';

/**
 * Sends every mutation of every target and returns the answers that were not proper 4xx/2xx/3xx answers.
 * GETs go first, so fields seen on rendered pages join the fields of the POSTs after them.
 */
async function fuzz(targets: Fuzzed[], seed: number, fieldsSeen: Set<string>, baseline: (t: Fuzzed) => Record<string, string>): Promise<{ problems: string[]; sent: number }> {
  const random = seededRandom(seed);
  const problems: string[] = [];
  let sent = 0;
  const ordered = [...targets.filter((t) => t.method === 'GET'), ...targets.filter((t) => t.method !== 'GET')];
  for (const target of ordered) {
    // A route with fields of its own (oidc-provider's parameters) gets only those; a form route every field of its app.
    const own = { ...target.fields, ...baseline(target) };
    const fields = Object.keys(target.fields).length ? own : { ...Object.fromEntries([...fieldsSeen].map((n) => [n, 'fuzz'])), ...own };
    for (const probe of mutationsOf({ ...target, fields }, random, Object.keys(own))) {
      const answer = await send(target.origin, probe, typeof target.cookie === 'string' ? target.cookie : await target.cookie());
      sent++;
      if (probe.mutation === 'baseline' && answer.status === 200) for (const name of pageFields(answer.text)) fieldsSeen.add(name);
      const problem = problemOf(answer);
      if (problem) problems.push(`${target.method} ${target.template} — ${probe.mutation}: ${problem}`);
    }
  }
  return { problems, sent };
}

/** Fills `:id`-like parameters from `values` by the path they appear in; unknown ones get `fallback`. */
function paramsOf(route: Route, values: (name: string, path: string) => string): Record<string, string> {
  return Object.fromEntries([...route.path.matchAll(/[:*]([A-Za-z_]+)/g)].map((m) => [m[1]!, values(m[1]!, route.path)]));
}

/**
 * Issue 9, defect 6: malformed input never gets a 5xx. Every route of the IdP (its Express routers, the
 * dev outbox, and oidc-provider's endpoints from discovery), the admin console and both demo portals
 * (portal-adapters), found from the apps themselves, gets NUL and control characters in every field, query
 * and path parameter, unsupported charsets, bad Content-Encoding, too many parameters, a 1 MB body, malformed
 * percent-encoding, wrong content types and JSON garbage — with real sessions and CSRF tokens, so the input
 * reaches the handlers. No answer may be a 5xx, go unanswered, or show a stack trace or SQL.
 */
describe('every route under malformed input', () => {
  let t: TestIdp;
  let c: TestConsole;
  const servers: Server[] = [];
  let outboxDir: string;
  const redirectUri = 'http://localhost:1/callback';
  const portalCookieSecret = 'a-fuzz-test-cookie-secret-of-32-characters!';
  let tokens: { id_token?: string; access_token: string; refresh_token?: string };
  let client: { clientId: string; clientSecret: string };
  let interactionUa: UserAgent;
  let signedUa: UserAgent;
  const csrf = { interaction: '', recovery: '', account: '' };
  let uid = '';
  let user: { id: string; userId: string; email: string; password: string };


  beforeAll(async () => {
    t = await startTestIdp();
    user = await t.createAccount({ userId: 'fuzz.user', delegatedAdministrator: true });
    const rp = await t.registerClient({ clientId: 'fuzz-rp', redirectUri, postLogoutRedirectUri: 'http://localhost:1/signed-out' });
    client = { clientId: rp.clientId, clientSecret: rp.clientSecret };
    // A person signed in at the IdP (for /account and SSO), with real tokens.
    signedUa = new UserAgent();
    const auth = await startAuthorization(rp.rp, redirectUri);
    const callback = await signInToCallback({ ua: signedUa, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const grant = await redeem(rp.rp, callback, auth);
    tokens = { id_token: grant.id_token, access_token: grant.access_token, refresh_token: grant.refresh_token };
    csrf.account = csrfOn((await signedUa.request(`${t.issuer}/account`)).html);
    // A person in the middle of signing in (for the interaction steps and password recovery).
    interactionUa = new UserAgent();
    const page = await interactionUa.follow((await startAuthorization(rp.rp, redirectUri)).url.toString());
    uid = /\/interaction\/([^/?]+)/.exec(page.url)![1]!;
    csrf.interaction = csrfOn(page.html);
    csrf.recovery = csrfOn((await interactionUa.request(`${t.issuer}/password/forgot`)).html);
    expect([csrf.account, csrf.interaction, csrf.recovery].every(Boolean)).toBe(true);
    c = await startTestConsole(t);
    outboxDir = await mkdtemp(path.join(tmpdir(), 'fuzz-outbox-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); })));
    await c?.close();
    await t?.close();
    if (outboxDir) await rm(outboxDir, { recursive: true, force: true });
  });

  it('answers every malformed request to the IdP with a 4xx or a page, never a 5xx, a stack trace or SQL', async () => {
    const idp = await wireIdp(t.config, t.idp.database, { identity: t.idp.identity, clients: t.idp.clients, jwks: await t.idp.keys.listJwks(new Date()), clock: { now: () => new Date() }, logger: t.idp.logger });
    const expressRoutes = routesOf(idp.app);
    const devRoutes = routesOf(express().use(devOutboxRouter(outboxDir)));
    expect(expressRoutes).toContainEqual({ method: 'POST', path: '/interaction/:uid/password' });
    expect(devRoutes).toContainEqual({ method: 'GET', path: '/dev/outbox' });
    const discovery = (await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    const endpoint = (key: string) => new URL(discovery[key]!).pathname;
    const oidcRoutes: Array<Route & { fields: Record<string, string> }> = [
      { method: 'GET', path: '/.well-known/openid-configuration', fields: {} },
      { method: 'GET', path: endpoint('jwks_uri'), fields: {} },
      ...['GET', 'POST'].map((method) => ({ method, path: endpoint('authorization_endpoint'), fields: { client_id: client.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'fuzz-state', nonce: 'fuzz-nonce' } })),
      { method: 'GET', path: `${endpoint('authorization_endpoint')}/:uid`, fields: {} },
      { method: 'POST', path: endpoint('pushed_authorization_request_endpoint'), fields: { client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'fuzz' } },
      { method: 'POST', path: endpoint('token_endpoint'), fields: { grant_type: 'authorization_code', code: 'fuzz-code', redirect_uri: redirectUri, code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', client_id: client.clientId, client_secret: client.clientSecret } },
      { method: 'POST', path: endpoint('token_endpoint'), fields: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? 'x', client_id: client.clientId, client_secret: client.clientSecret } },
      ...['GET', 'POST'].map((method) => ({ method, path: endpoint('userinfo_endpoint'), fields: { access_token: tokens.access_token } })),
      { method: 'POST', path: endpoint('revocation_endpoint'), fields: { token: 'fuzz-token', token_type_hint: 'access_token', client_id: client.clientId, client_secret: client.clientSecret } },
      ...['GET', 'POST'].map((method) => ({ method, path: endpoint('end_session_endpoint'), fields: { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: 'http://localhost:1/signed-out', state: 'fuzz', client_id: client.clientId } })),
      { method: 'POST', path: `${endpoint('end_session_endpoint')}/confirm`, fields: { xsrf: 'fuzz', logout: 'yes' } },
      { method: 'GET', path: `${endpoint('end_session_endpoint')}/success`, fields: { client_id: client.clientId } },
    ];
    const idpOrigin = t.issuer;
    const cookieFor = (ua: UserAgent) => async () => ua.jar.getCookieString(`${idpOrigin}/interaction/${uid}/password`).then(async (a) => [a, await ua.jar.getCookieString(`${idpOrigin}/password/forgot`), await ua.jar.getCookieString(`${idpOrigin}/account`)].filter(Boolean).join('; '));
    const values = (name: string) => (name === 'uid' ? uid : name === 'rest' ? 'password' : 'fuzz-token-value');
    const targets: Fuzzed[] = [
      ...[...expressRoutes, ...devRoutes].map((r) => ({ ...r, template: r.path, params: paramsOf(r, values), fields: {}, origin: idpOrigin, cookie: cookieFor(r.path.startsWith('/account') ? signedUa : interactionUa) })),
      ...oidcRoutes.map((r) => ({ ...r, template: r.path, params: paramsOf(r, values), origin: idpOrigin, cookie: cookieFor(r.path.startsWith('/session') ? signedUa : interactionUa) })),
    ];
    const fieldsSeen = await viewFields(path.resolve('idp/views'));
    const oidcPaths = new Set(oidcRoutes.map((r) => r.path));
    const { problems, sent } = await fuzz(targets, 9006, fieldsSeen, (target): Record<string, string> => {
      if (oidcPaths.has(target.template)) return {};
      const token = target.template.startsWith('/account') ? csrf.account : target.template.startsWith('/password') ? csrf.recovery : csrf.interaction;
      return { _csrf: token, login: user.userId };
    });
    console.log(`IdP: ${sent} requests to ${targets.length} routes, ${problems.length} problems`);
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(500);
  });

  it('answers every malformed request to both demo portals (portal-adapters) without a 5xx, a stack trace or SQL', async () => {
    const portals: Fuzzed[] = [];
    for (const [clientId, create, cookieName] of [['eservice-portal', createEServicePortal, 'eservice_session'], ['ecp', createEcp, 'ecp_session']] as const) {
      const port = await freePort();
      const baseUrl = `http://localhost:${port}`;
      const clientSecret = await registerFirstPartyClient(t.idp.clients, { clientId, clientName: clientId, origin: baseUrl });
      const app = await create({ issuer: t.issuer, clientId, clientSecret, baseUrl, cookieSecret: portalCookieSecret, allowInsecureRequests: true, logger: { warn: () => {} } });
      servers.push(await new Promise<Server>((resolve) => { const s = app.listen(port, '127.0.0.1', () => resolve(s)); }));
      const sealed = await createSessionCodec({ cookieSecret: portalCookieSecret, clientId }).seal({ sub: user.id, name: 'Fuzz', email: null, organization: null, functions: ['EU_UserMaintenance'], amr: ['pwd', 'otp'], idToken: tokens.id_token ?? 'x', csrfToken: 'fuzz-csrf' }, 600);
      const routes = routesOf(app);
      expect(routes).toContainEqual({ method: 'POST', path: '/auth/backchannel-logout' });
      for (const r of routes) portals.push({ ...r, template: r.path, params: paramsOf(r, () => 'fuzz'), fields: { _csrf: 'fuzz-csrf', logout_token: tokens.id_token ?? 'x', code: 'fuzz', state: 'fuzz', iss: t.issuer, returnTo: '/' }, origin: `http://127.0.0.1:${port}`, cookie: `${cookieName}=${encodeURIComponent(sealed)}` });
    }
    const { problems, sent } = await fuzz(portals, 9007, new Set(), () => ({}));
    console.log(`portals: ${sent} requests to ${portals.length} routes, ${problems.length} problems`);
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(200);
  });

  it('answers every malformed request to the admin console without a 5xx, a stack trace or SQL', async () => {
    const operator = await t.createAccount({ userId: 'fuzz.operator', delegatedAdministrator: true });
    await t.idp.identity.accounts.setOperator(operator.id, true, 'test');
    const member = await t.createAccount({ userId: 'fuzz.member' });
    const organization = await t.organization();
    const draft = await t.idp.identity.changeRequests.createDraft({ accountId: user.id }, { organizationId: organization, type: 'suspend_account', payload: { accountId: member.id } });
    const requestId = (await t.idp.identity.changeRequests.submit({ accountId: user.id }, draft.id)).id;
    const routes = routesOf(c.app);
    const values = (name: string, p: string) =>
      name === 'change' ? CHANGE_FORMS[0]!.slug : name === 'action' ? (p.startsWith('/operator') ? 'complete' : 'confirm')
        : p.startsWith('/accounts') ? member.id : p.startsWith('/operator/organizations') ? organization : p.includes('/requests') ? requestId : '00000000-0000-4000-8000-000000000000';
    const cookie = await c.cookieFor(operator, 'fuzz-csrf');
    const targets: Fuzzed[] = routes.map((r) => ({ ...r, template: r.path, params: paramsOf(r, values), fields: {}, origin: c.url.replace('localhost', '127.0.0.1'), cookie }));
    const fieldsSeen = await viewFields(path.resolve('admin-console/views'));
    const { problems, sent } = await fuzz(targets, 9008, fieldsSeen, () => ({ _csrf: 'fuzz-csrf', text: 'fuzz', version: '1' }));
    console.log(`console: ${sent} requests to ${targets.length} routes, ${problems.length} problems`);
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(500);
  });
});
