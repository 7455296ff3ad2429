// @ts-ignore -- oidc-provider ships no type declarations.
import * as oidcProvider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeconds, randomToken, type Clock } from '../../lib/index.js';
import { createClientStore, createOidcAdapter, revokeAccountGrants, type Database, type OidcAdapter } from '../../storage/index.js';
import * as client from 'openid-client';
import { sql } from 'drizzle-orm';
import { openTestDatabase } from '../support/database.js';
import { startTestIdp } from '../support/harness.js';
import { redeem, startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { UserAgent } from '../support/user-agent.js';

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

describe('bearer values at rest (issue 8, point 12): keyed hashes, no plain value in the row', () => {
  let database: Database;
  const now = new Date('2030-01-01T00:00:00Z');
  const clock: Clock = { now: () => now };
  const OLD = Buffer.alloc(32, 1);
  const NEW = Buffer.alloc(32, 2);

  /** How many rows of oidc_models contain `value` anywhere (every column, as text). */
  async function rowsContaining(db: Database, value: string): Promise<number> {
    const result = (await db.db.execute(sql`select count(*)::int as n from oidc_models m where m::text like ${`%${value}%`}`)) as unknown as { rows: { n: number }[] };
    return result.rows[0]!.n;
  }

  beforeAll(async () => {
    database = await openTestDatabase();
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('stores a session, code and token under an HMAC of its id, without `jti`, and gives oidc-provider back what it saved', async () => {
    const Adapter = createOidcAdapter(database, { encryptionKey: OLD, clock });
    const sessionId = randomToken(24);
    const code = randomToken(24);
    const interactionId = randomToken(24);
    await new Adapter('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid: 'uid-hash', accountId: 'account-h', exp: 1 }, 600);
    await new Adapter('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', grantId: 'grant-h', accountId: 'account-h', clientId: 'portal' }, 60);
    await new Adapter('Interaction').upsert(interactionId, { jti: interactionId, kind: 'Interaction', session: { accountId: 'account-h', uid: 'uid-hash', cookie: sessionId } }, 60);
    for (const value of [sessionId, code]) expect(await rowsContaining(database, value)).toBe(0);
    expect(await new Adapter('Session').find(sessionId)).toEqual({ jti: sessionId, kind: 'Session', uid: 'uid-hash', accountId: 'account-h', exp: 1 });
    expect(await new Adapter('Session').findByUid('uid-hash')).toMatchObject({ jti: sessionId, accountId: 'account-h' });
    expect(await new Adapter('AuthorizationCode').find(code)).toMatchObject({ jti: code, grantId: 'grant-h' });
    expect(await new Adapter('Interaction').find(interactionId)).toEqual({ jti: interactionId, kind: 'Interaction', session: { accountId: 'account-h', uid: 'uid-hash' } });
    // Another key finds nothing: the ids are keyed.
    const Other = createOidcAdapter(database, { encryptionKey: NEW, clock });
    expect(await new Other('Session').find(sessionId)).toBeUndefined();
    expect(await new Other('AuthorizationCode').find(code)).toBeUndefined();
  });

  it('hashes the device flow user code, and finds the DeviceCode by it with its id', async () => {
    const Adapter = createOidcAdapter(database, { encryptionKey: OLD, clock });
    const deviceCode = randomToken(24);
    await new Adapter('DeviceCode').upsert(deviceCode, { jti: deviceCode, kind: 'DeviceCode', userCode: 'WDJBMJHT', clientId: 'tv' }, 600);
    expect(await rowsContaining(database, 'WDJBMJHT')).toBe(0);
    expect(await rowsContaining(database, deviceCode)).toBe(0);
    expect(await new Adapter('DeviceCode').findByUserCode('WDJBMJHT')).toMatchObject({ jti: deviceCode, userCode: 'WDJBMJHT', clientId: 'tv' });
    // Saved again after a find by id (without the user code), it is still found by the user code.
    const byId = await new Adapter('DeviceCode').find(deviceCode);
    await new Adapter('DeviceCode').upsert(deviceCode, { ...byId, inFlight: true }, 600);
    expect(await new Adapter('DeviceCode').findByUserCode('WDJBMJHT')).toMatchObject({ jti: deviceCode, inFlight: true });
  });

  it('keeps finding rows during an ENCRYPTION_KEY rotation and re-keys them when used; unused ones end with the previous key', async () => {
    const Before = createOidcAdapter(database, { encryptionKey: OLD, clock });
    const used = randomToken(24);
    const unused = randomToken(24);
    await new Before('RefreshToken').upsert(used, { jti: used, kind: 'RefreshToken', grantId: 'grant-r', accountId: 'account-r', clientId: 'portal' }, 3600);
    await new Before('RefreshToken').upsert(unused, { jti: unused, kind: 'RefreshToken', grantId: 'grant-r', accountId: 'account-r', clientId: 'portal' }, 3600);
    const During = createOidcAdapter(database, { encryptionKey: { current: NEW, previous: [OLD] }, clock });
    expect(await new During('RefreshToken').find(used)).toMatchObject({ jti: used });
    await new During('RefreshToken').consume(used);
    const After = createOidcAdapter(database, { encryptionKey: NEW, clock });
    expect(await new After('RefreshToken').find(used)).toMatchObject({ jti: used, consumed: Math.floor(now.getTime() / 1000) });
    expect(await new After('RefreshToken').find(unused)).toBeUndefined();
  });

  it('after a real sign-in, refresh and logout, no row holds the code, a token or the session cookie, and everything works', async () => {
    const t = await startTestIdp();
    try {
      const REDIRECT = 'http://localhost:7612/auth/callback';
      const stopAt = (next: string) => next.startsWith(REDIRECT);
      const c = await t.registerClient({ clientId: 'hashed-ids', redirectUri: REDIRECT, postLogoutRedirectUri: 'http://localhost:7612/' });
      const user = await t.createAccount({ userId: 'hashed.ids' });
      const ua = new UserAgent();
      const auth = await startAuthorization(c.rp, REDIRECT, { scope: 'openid profile offline_access', prompt: 'consent' });
      const since = t.smtp.messages.length;
      const codePage = await submitPassword(ua, await ua.follow(auth.url.toString()), user.userId, user.password);
      const consent = await ua.submit(codePage, { 'One-time code': otpFrom(await t.smtp.waitFor(user.email, { since })) }, { stopAt });
      const callback = new URL((consent.redirectedTo ? consent : await ua.submit(consent, {}, { button: 'Allow', stopAt })).redirectedTo!);
      const code = callback.searchParams.get('code')!;
      const tokens = await redeem(c.rp, callback, auth);
      expect(tokens.refresh_token).toBeTruthy();
      const refreshed = await client.refreshTokenGrant(c.rp, tokens.refresh_token!);
      const sessionCookie = (await ua.jar.getCookies(t.issuer)).find((k) => k.key === '_session')?.value;
      expect(sessionCookie).toBeTruthy();
      const secrets = { code, accessToken: tokens.access_token, refreshToken: tokens.refresh_token!, refreshedAccessToken: refreshed.access_token, refreshedRefreshToken: refreshed.refresh_token ?? tokens.refresh_token!, sessionCookie: sessionCookie! };
      expect(Object.values(secrets).every((v) => v.length >= 20)).toBe(true);
      for (const [name, value] of Object.entries(secrets)) expect({ name, rows: await rowsContaining(t.idp.database, value) }).toEqual({ name, rows: 0 });

      // They still work: userinfo with the new access token, single sign-on with the session cookie.
      const userinfo = await fetch(c.rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
      expect(userinfo.status).toBe(200);
      const sso = await startAuthorization(c.rp, REDIRECT);
      expect((await ua.follow(sso.url.toString(), {}, stopAt)).redirectedTo).toMatch(/[?&]code=/);
      // The code cannot be redeemed twice.
      await expect(redeem(c.rp, callback, auth)).rejects.toMatchObject({ error: 'invalid_grant' });

      // RP-initiated logout ends the session: the next authorization asks for sign-in again.
      const logout = client.buildEndSessionUrl(c.rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://localhost:7612/' });
      const confirm = await ua.follow(logout.toString());
      await ua.submit(confirm, {}, { button: 'Sign out', stopAt: (next) => next.startsWith('http://localhost:7612/') });
      expect(await rowsContaining(t.idp.database, sessionCookie!)).toBe(0);
      const again = await ua.follow((await startAuthorization(c.rp, REDIRECT)).url.toString(), {}, stopAt);
      expect(again.redirectedTo).toBeUndefined();
      expect(again.html).toContain('User ID or email');
    } finally {
      await t.close();
    }
  });
});
