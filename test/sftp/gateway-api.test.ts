/**
 * The SFTP authorization API as a gateway calls it (issue 14 §2): only registered gateways get its tokens and
 * answers, through oidc-provider's client authentication (client secret, private_key_jwt); bad input gets field
 * errors; answers are never to be relied on longer than SFTP_DECISION_TTL_SECONDS, and an open session is ended
 * within that time once the account is suspended; repeated refusals throttle that key from that address.
 */
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizationClient, ECP_SFTP_RESOURCE } from '../../examples/ecp-sftp/authorization-client.js';
import { connectSftp, sftpCall, startSftpTestBed, type SftpTestBed } from './gateway-support.js';

let bed: SftpTestBed;
let token: string;

beforeAll(async () => {
  bed = await startSftpTestBed({ SFTP_DECISION_TTL_SECONDS: '2', SFTP_REFUSAL_LIMIT: '3' });
  const rp = await oidc.discovery(new URL(bed.t.issuer), bed.gatewayClientId, bed.gatewaySecret, undefined, { execute: [oidc.allowInsecureRequests] });
  token = (await oidc.clientCredentialsGrant(rp, { resource: ECP_SFTP_RESOURCE })).access_token;
});
afterAll(async () => {
  await bed?.close();
});

const api = (path: string, body: unknown, bearer: string | null = token) =>
  fetch(`${bed.t.issuer}/sftp/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const FINGERPRINT = `SHA256:${'A'.repeat(43)}`;
/** The JSON body of an answer (any shape: the assertions check it). */
const json = async (res: Response) => (await res.json()) as Record<string, any>;

describe('the SFTP authorization API', () => {
  it('answers 401 invalid_token without a token, with an unknown one and with a portal API token of the gateway', async () => {
    const body = { userId: 'x', fingerprint: FINGERPRINT, sourceIp: '127.0.0.1' };
    for (const bearer of [null, 'not-a-token']) {
      const res = await api('authorizations', body, bearer);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    }
    const rp = await oidc.discovery(new URL(bed.t.issuer), bed.gatewayClientId, bed.gatewaySecret, undefined, { execute: [oidc.allowInsecureRequests] });
    const portalToken = (await oidc.clientCredentialsGrant(rp, {})).access_token; // a JWT for the portal API
    expect((await api('authorizations', body, portalToken)).status).toBe(401);
  });

  it('gives no token for it to a service client that is not a registered gateway (invalid_target)', async () => {
    const other = await bed.t.idp.clients.create({ clientId: 'member-backoffice', redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service: { organizationId: bed.organizationId, functions: ['EU_ECPSFTP'] } });
    const rp = await oidc.discovery(new URL(bed.t.issuer), other.clientId, other.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    await expect(oidc.clientCredentialsGrant(rp, { resource: ECP_SFTP_RESOURCE })).rejects.toMatchObject({ error: 'invalid_target' });
  });

  it('rejects bad input with 400 and field errors, recording nothing', async () => {
    const res = await api('authorizations', { userId: '', fingerprint: 'MD5:aa:bb', sourceIp: '999.1.1.1' });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error).toBe('invalid_request');
    expect(Object.keys(body.fieldErrors).sort()).toEqual(['fingerprint', 'sourceIp', 'userId']);
    expect((await api('authorizations', '{"userId":')).status).toBe(400);
    expect((await api('authorizations', { userId: 'a', fingerprint: FINGERPRINT, sourceIp: '::1', extra: 1 })).status).toBe(400);
    expect((await api('authorizations', JSON.stringify({ userId: 'a'.repeat(5000) }))).status).toBe(413); // past the 4 kB body limit
    const receipt = await api('receipts', { userId: 'a', fingerprint: FINGERPRINT, sourceIp: '::1', organizationId: bed.organizationId, folder: 'Daily Reports', fileName: '../x', bytes: -1, sha256: 'XYZ' });
    expect(receipt.status).toBe(400);
    expect(Object.keys((await json(receipt)).fieldErrors).sort()).toEqual(['bytes', 'fileName', 'sha256']);
    expect(await bed.t.idp.identity.stores.audit.list({ type: 'sftp.access_refused' })).toEqual([]);
  });

  it('refuses a receipt for a download folder with a field error', async () => {
    const kim = await bed.sftpAccount('sftp.kim');
    const res = await api('receipts', { userId: kim.userId, fingerprint: kim.key.fingerprint, sourceIp: '127.0.0.1', organizationId: bed.organizationId, folder: 'Daily Reports', fileName: 'x.csv', bytes: 1, sha256: 'a'.repeat(64) });
    expect(res.status).toBe(400);
    expect((await json(res)).fieldErrors.folder).toHaveLength(1);
  });

  it('says how long its answer holds (SFTP_DECISION_TTL_SECONDS), allowed or not', async () => {
    const lee = await bed.sftpAccount('sftp.lee');
    const res = await api('authorizations', { userId: lee.userId, fingerprint: lee.key.fingerprint, sourceIp: '127.0.0.1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, max-age=2');
    expect(await json(res)).toMatchObject({ allowed: true, reason: 'allowed', accountId: lee.id, organization: { id: bed.organizationId, participantIds: ['B09999', 'CTEST'] }, folders: [{ name: 'Clearing Submission', kind: 'submission' }, { name: 'Submission Acknowledgements', kind: 'download' }, { name: 'Daily Reports', kind: 'download' }], maxAgeSeconds: 2 });
    const refused = await json(await api('authorizations', { userId: lee.userId, fingerprint: FINGERPRINT, sourceIp: '127.0.0.1' }));
    expect(refused).toEqual({ allowed: false, reason: 'unknown_key', accountId: lee.id, organization: null, folders: [], maxAgeSeconds: 2 });
  });

  it('throttles a key from an address after SFTP_REFUSAL_LIMIT refusals, while allowed answers count for nothing', async () => {
    const max = await bed.sftpAccount('sftp.max');
    const ask = async (sourceIp: string) => (await json(await api('authorizations', { userId: max.userId, fingerprint: max.key.fingerprint, sourceIp }))).reason;
    for (let i = 0; i < 5; i++) expect(await ask('127.0.0.1')).toBe('allowed');
    for (let i = 0; i < 3; i++) expect(await ask('192.0.2.7')).toBe('source_not_allowed');
    expect(await ask('192.0.2.7')).toBe('throttled');
    expect(await ask('127.0.0.1')).toBe('allowed'); // the same key from its allowed address is not affected
    const [event] = await bed.t.idp.identity.stores.audit.list({ type: 'sftp.access_refused' });
    expect(event).toMatchObject({ ip: '192.0.2.7', data: { reason: 'throttled', fingerprint: max.key.fingerprint } });
  });

  it('serves a gateway that authenticates with private_key_jwt (RFC 7523)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid: 'gw-1' };
    const organizationId = await bed.t.newOrganization();
    await bed.t.idp.clients.create({ clientId: 'jwt-sftp-gateway', redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service: { organizationId, functions: ['EU_ECPSFTP'] }, servedResources: [ECP_SFTP_RESOURCE], tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
    const client = await createAuthorizationClient({ issuer: bed.t.issuer, clientId: 'jwt-sftp-gateway', credentials: { privateKey: { key: privateKey, kid: 'gw-1' } }, allowInsecureRequests: true });
    const nia = await bed.sftpAccount('sftp.nia');
    expect(await client.authorize({ userId: nia.userId, fingerprint: nia.key.fingerprint, sourceIp: '127.0.0.1' })).toMatchObject({ allowed: true, accountId: nia.id });
    const [event] = await bed.t.idp.identity.stores.audit.list({ type: 'sftp.access_allowed', accountId: nia.id });
    expect(event).toMatchObject({ actor: 'client:jwt-sftp-gateway', data: { gateway: 'jwt-sftp-gateway' } });
  });

  it('ends an open session within SFTP_DECISION_TTL_SECONDS of a suspension', async () => {
    const olu = await bed.sftpAccount('sftp.olu');
    const { client, sftp } = await connectSftp(bed.gateway.port, olu.userId, olu.key.privateKey);
    const closed = new Promise<number>((resolve) => client.on('close', () => resolve(Date.now())));
    expect(await sftpCall.readdir(sftp, '/')).toHaveLength(3);
    const suspendedAt = Date.now();
    await bed.t.idp.identity.stores.accounts.setStatus(olu.id, 'suspended', new Date());
    const endedAt = await closed;
    expect(endedAt - suspendedAt).toBeLessThan(2000 + 1500);
    const [event] = await bed.t.idp.identity.stores.audit.list({ type: 'sftp.access_refused', accountId: olu.id });
    expect(event?.data.reason).toBe('account_suspended');
  });
});
