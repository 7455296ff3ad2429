/**
 * Issue 8, point 11: back-channel logout URIs cannot point the IdP at internal addresses. oidc-provider's
 * special-use-address guard stays on for every outgoing request; only hosts listed in
 * `BACKCHANNEL_LOGOUT_ALLOWED_HOSTS` may be on loopback or a private network. Real parts: the IdP, two HTTP
 * receivers on 127.0.0.1, a person signed in at both clients, and a suspension through maker-checker.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { loadConfig } from '../../lib/index.js';
import { createOutgoingFetch, isAllowedHost, type ProviderFetchOptions } from '../../idp/outgoing-fetch.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

/** An HTTP server on 127.0.0.1 that answers 200 and keeps the body of each POST. */
interface Receiver {
  origin: string;
  port: number;
  bodies: string[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (req.method === 'POST') bodies.push(body);
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, port, bodies, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Log lines the IdP writes, parsed. */
const logLines: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });

let allowed: Receiver;
let blocked: Receiver;
let t: TestIdp;

beforeAll(async () => {
  allowed = await startReceiver();
  blocked = await startReceiver();
  t = await startTestIdp({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: `127.0.0.1:${allowed.port}` }, { logger });
});
afterAll(async () => {
  await t?.close();
  await allowed?.close();
  await blocked?.close();
});

/** Registers a client whose redirect and back-channel logout URIs are on `receiver`; returns its openid-client configuration. */
async function registerAt(clientId: string, receiver: Receiver) {
  const created = await t.idp.clients.create({
    clientId,
    redirectUris: [`${receiver.origin}/auth/callback`],
    postLogoutRedirectUris: [],
    backchannelLogoutUri: `${receiver.origin}/auth/backchannel-logout`,
    firstParty: true,
  });
  const rp = await client.discovery(new URL(t.issuer), clientId, created.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  return { rp, redirectUri: `${receiver.origin}/auth/callback` };
}

describe('back-channel logout and internal addresses', () => {
  it('after a suspension, a client on 127.0.0.1 not in BACKCHANNEL_LOGOUT_ALLOWED_HOSTS receives nothing (logged), one in the list gets its logout token', async () => {
    const organizationId = await t.organization();
    const da1 = await t.createAccount({ userId: 'guard.da1', delegatedAdministrator: true });
    const da2 = await t.createAccount({ userId: 'guard.da2', delegatedAdministrator: true });
    const user = await t.createAccount({ userId: 'guard.user' });
    const ua = new UserAgent();
    for (const [clientId, receiver] of [['guard-allowed', allowed], ['guard-blocked', blocked]] as const) {
      const { rp, redirectUri } = await registerAt(clientId, receiver);
      const auth = await startAuthorization(rp, redirectUri);
      const callback = await signInToCallback({ ua, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
      expect((await redeem(rp, callback, auth)).claims()?.sub).toBe(user.id);
    }

    const service = t.idp.identity.changeRequests;
    const draft = await service.createDraft({ accountId: da1.id }, { organizationId, type: 'suspend_account', payload: { accountId: user.id } });
    await service.submit({ accountId: da1.id }, draft.id);
    const claimed = await service.claim({ accountId: da2.id }, draft.id);
    expect((await service.confirm({ accountId: da2.id }, draft.id, claimed.version)).status).toBe('completed');

    const [event] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.suspended' });
    expect(event?.data).toMatchObject({ clients: ['guard-allowed', 'guard-blocked'] });
    expect(allowed.bodies).toHaveLength(1);
    expect(allowed.bodies[0]).toMatch(/^logout_token=/);
    expect(blocked.bodies).toEqual([]);
    const failure = logLines.find((l) => l.msg === 'back-channel logout failed' && l.clientId === 'guard-blocked');
    expect(JSON.stringify(failure)).toContain('special-use IP address');
    expect(logLines.some((l) => l.msg === 'back-channel logout sent' && l.clientId === 'guard-allowed')).toBe(true);
  });
});

describe('the outgoing fetch', () => {
  it('matches allowed hosts by name (any port) or name and port, the scheme giving the default port', () => {
    const hosts = loadConfig({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: ' Portal.Internal , 10.0.0.5:8443,[::1]:3001', DEMO_PORTALS: 'false' }).backchannelLogoutAllowedHosts;
    expect(hosts).toEqual(['portal.internal', '10.0.0.5:8443', '[::1]:3001']);
    expect(isAllowedHost(new URL('https://portal.internal:9000/bcl'), hosts)).toBe(true);
    expect(isAllowedHost(new URL('https://10.0.0.5:8443/bcl'), hosts)).toBe(true);
    expect(isAllowedHost(new URL('https://10.0.0.5/bcl'), hosts)).toBe(false);
    expect(isAllowedHost(new URL('http://[::1]:3001/bcl'), hosts)).toBe(true);
    expect(isAllowedHost(new URL('http://127.0.0.1:3001/bcl'), hosts)).toBe(false);
    expect(isAllowedHost(new URL('https://portal.internal.evil.example/bcl'), hosts)).toBe(false);
  });

  it('refuses a malformed entry, and adds the demo portals only while they run outside production', () => {
    expect(() => loadConfig({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: 'https://portal.internal/' })).toThrow(/BACKCHANNEL_LOGOUT_ALLOWED_HOSTS/);
    expect(() => loadConfig({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: 'user@portal.internal' })).toThrow(/BACKCHANNEL_LOGOUT_ALLOWED_HOSTS/);
    expect(loadConfig({}).backchannelLogoutAllowedHosts).toEqual(['localhost:3001', 'localhost:3002']);
    expect(loadConfig({ DEMO_PORTALS: 'false' }).backchannelLogoutAllowedHosts).toEqual([]);
  });

  it('keeps the guard dispatcher oidc-provider passes unless the host is allowed', async () => {
    const receiver = await startReceiver();
    try {
      let guardUsed = 0;
      const dispatcher = {
        dispatch: () => {
          guardUsed += 1;
          throw new Error('the guard dispatcher was used');
        },
      };
      const options = () => ({ method: 'POST', body: 'x', dispatcher, signal: AbortSignal.timeout(2500) }) as unknown as ProviderFetchOptions;
      await expect(createOutgoingFetch([])(`${receiver.origin}/bcl`, options())).rejects.toThrow();
      expect(guardUsed).toBe(1);
      expect((await createOutgoingFetch([`127.0.0.1:${receiver.port}`])(`${receiver.origin}/bcl`, options())).status).toBe(200);
      expect(guardUsed).toBe(1);
      expect(receiver.bodies).toEqual(['x']);
    } finally {
      await receiver.close();
    }
  });
});
