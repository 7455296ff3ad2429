// @ts-ignore -- oidc-provider ships no type declarations.
import * as oidcProvider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeconds, randomToken, type Clock } from '../../lib/index.js';
import { createClientStore, createOidcAdapter, revokeAccountGrants, type Database, type OidcAdapter } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';

const { errors } = oidcProvider as unknown as { errors: { InvalidGrant: new () => Error } };
const KEY = Buffer.alloc(32, 7);

describe('the oidc-provider adapter on PostgreSQL', () => {
  let database: Database;
  let now = new Date('2030-01-01T00:00:00Z');
  const clock: Clock = { now: () => now };
  let Adapter: new (model: string) => OidcAdapter;

  /** A Grant with an authorization code and a refresh token, as oidc-provider saves them. */
  async function grantWithTokens(accountId = 'account-1') {
    const grantId = randomToken(16);
    const code = randomToken(16);
    const refresh = randomToken(16);
    await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'portal' }, 3600);
    await new Adapter('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', grantId, accountId, clientId: 'portal' }, 60);
    await new Adapter('RefreshToken').upsert(refresh, { jti: refresh, kind: 'RefreshToken', grantId, accountId, clientId: 'portal' }, 7200);
    return { grantId, code, refresh };
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    Adapter = createOidcAdapter(database, { encryptionKey: KEY, clock });
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('finds a saved model until it expires, then no more', async () => {
    const sessions = new Adapter('Session');
    await sessions.upsert('session-1', { jti: 'session-1', kind: 'Session', uid: 'uid-1', accountId: 'account-1' }, 60);
    expect(await sessions.find('session-1')).toEqual({ jti: 'session-1', kind: 'Session', uid: 'uid-1', accountId: 'account-1' });
    expect(await sessions.findByUid('uid-1')).toMatchObject({ jti: 'session-1' });
    expect(await new Adapter('Interaction').find('session-1')).toBeUndefined();
    now = addSeconds(now, 60);
    expect(await sessions.find('session-1')).toBeUndefined();
    expect(await sessions.findByUid('uid-1')).toBeUndefined();
  });

  it('lets one of 20 concurrent consumptions win; the others get invalid_grant and the whole grant is revoked', async () => {
    const { grantId, code, refresh } = await grantWithTokens();
    const codes = new Adapter('AuthorizationCode');
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => codes.consume(code)));
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error & { error: string; statusCode: number });
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const error of losers) {
      expect(error).toBeInstanceOf(errors.InvalidGrant);
      expect(error).toMatchObject({ error: 'invalid_grant', statusCode: 400 });
    }
    expect(await codes.find(code)).toBeUndefined();
    expect(await new Adapter('RefreshToken').find(refresh)).toBeUndefined();
    expect(await new Adapter('Grant').find(grantId)).toBeUndefined();
    // The winning request saves its tokens after the losers revoked the grant: they are never found.
    const lateToken = randomToken(16);
    await new Adapter('AccessToken').upsert(lateToken, { jti: lateToken, kind: 'AccessToken', grantId, accountId: 'account-1', clientId: 'portal' }, 600);
    expect(await new Adapter('AccessToken').find(lateToken)).toBeUndefined();
  });

  it('marks a consumed model so oidc-provider sees `consumed`, and refuses a second consumption', async () => {
    const { code } = await grantWithTokens();
    const codes = new Adapter('AuthorizationCode');
    await codes.consume(code);
    expect((await codes.find(code))?.consumed).toBe(Math.floor(now.getTime() / 1000));
    await expect(codes.consume(code)).rejects.toBeInstanceOf(errors.InvalidGrant);
  });

  it('deletes a grant\'s codes and tokens on revokeByGrantId but keeps the Grant, as oidc-provider expects', async () => {
    const { grantId, code, refresh } = await grantWithTokens();
    await new Adapter('RefreshToken').revokeByGrantId(grantId);
    expect(await new Adapter('AuthorizationCode').find(code)).toBeUndefined();
    expect(await new Adapter('RefreshToken').find(refresh)).toBeUndefined();
    expect(await new Adapter('Grant').find(grantId)).toMatchObject({ jti: grantId });
  });

  it('ends every grant and session of an account on revokeAccountGrants', async () => {
    const accountId = `account-${randomToken(6)}`;
    const first = await grantWithTokens(accountId);
    const second = await grantWithTokens(accountId);
    const other = await grantWithTokens('someone-else');
    await new Adapter('Session').upsert('session-x', { jti: 'session-x', kind: 'Session', uid: 'uid-x', accountId, authorizations: { ecp: { sid: 'sid-x' } } }, 600);
    expect(await revokeAccountGrants(database, accountId, now)).toEqual({ grants: 2, sessions: 1, clients: ['ecp', 'portal'] });
    expect(await new Adapter('Grant').find(first.grantId)).toBeUndefined();
    expect(await new Adapter('RefreshToken').find(second.refresh)).toBeUndefined();
    expect(await new Adapter('Session').find('session-x')).toBeUndefined();
    expect(await new Adapter('RefreshToken').find(other.refresh)).toMatchObject({ accountId: 'someone-else' });
  });

  it('reads clients from the client store as oidc-provider metadata with the unsealed secret', async () => {
    const created = await createClientStore(database, KEY).create({
      clientId: 'adapter-portal',
      clientName: 'Portal',
      redirectUris: ['https://portal.example/cb'],
      postLogoutRedirectUris: ['https://portal.example/'],
      initiateLoginUri: 'http://localhost:3001/login',
      firstParty: true,
    });
    expect(await new Adapter('Client').find('adapter-portal')).toEqual({
      client_id: 'adapter-portal',
      client_secret: created.clientSecret,
      client_name: 'Portal',
      redirect_uris: ['https://portal.example/cb'],
      post_logout_redirect_uris: ['https://portal.example/'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      first_party: true,
    });
    expect(await new Adapter('Client').find('unknown-client')).toBeUndefined();
    await expect(new Adapter('Client').upsert('x', {}, 1)).rejects.toThrow(/client store/);
  });
});
