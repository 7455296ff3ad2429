// @ts-ignore -- oidc-provider ships no type declarations.
import * as oidcProvider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, type Clock } from '../../lib/index.js';
import { eq } from 'drizzle-orm';
import { createIdentityStores, createOidcAdapter, type Database, type OidcAdapter } from '../../storage/index.js';
import { accounts } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';
import { createdAccount, createdOrganization } from './fixtures.js';

const { errors } = oidcProvider as unknown as { errors: { SessionNotFound: new () => Error } };
const KEY = Buffer.alloc(32, 9);

/** The parts of oidc-provider's request context the adapter reads, as oidc-provider's resume sets them. */
function resumeRequest(options: { sessionIsNew?: boolean; result?: Record<string, unknown> } = {}) {
  const result = options.result ?? { login: { accountId: 'account-1' } };
  return { oidc: { route: 'resume', session: { new: options.sessionIsNew ?? true, touched: false }, entities: { Interaction: { result } } } };
}

/**
 * What the adapter does within one oidc-provider request (issue 10 §3): a session-bound code's Session is read
 * with the code, and the writes of a resumed authorization request go to the database in one statement with its
 * Session, deleting the interaction, so that of two requests resuming one interaction only one saves anything.
 */
describe('the oidc-provider adapter within one request', () => {
  let database: Database;
  const clock: Clock = { now: () => new Date('2030-06-01T00:00:00Z') };
  let current: object | undefined;
  let Adapter: new (model: string) => OidcAdapter;
  /** Outside any request: every call goes to the database at once. */
  let Plain: new (model: string) => OidcAdapter;

  /** Runs `work` as if inside the oidc-provider request `ctx`. */
  async function within<T>(ctx: object, work: () => Promise<T>): Promise<T> {
    current = ctx;
    try {
      return await work();
    } finally {
      current = undefined;
    }
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    Adapter = createOidcAdapter(database, { encryptionKey: KEY, clock, requestContext: () => current });
    Plain = createOidcAdapter(database, { encryptionKey: KEY, clock });
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  async function finishedInteraction(): Promise<string> {
    const uid = randomToken(12);
    await new Plain('Interaction').upsert(uid, { jti: uid, kind: 'Interaction', result: { login: { accountId: 'account-1' } } }, 600);
    return uid;
  }

  it("reads a session-bound code's Session with the code and gives it to the request's findByUid", async () => {
    const [sessionId, uid, code] = [randomToken(12), randomToken(12), randomToken(12)];
    await new Plain('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid, accountId: 'account-1' }, 600);
    await new Plain('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', accountId: 'account-1', expiresWithSession: true, sessionUid: uid }, 60);
    const expected = await new Plain('Session').findByUid(uid);
    expect(expected).toMatchObject({ jti: sessionId, uid, accountId: 'account-1' });

    const ctx = {};
    await within(ctx, async () => {
      expect(await new Adapter('AuthorizationCode').find(code)).toMatchObject({ sessionUid: uid });
      // Gone from the table after the code was read: the request still gets what the code's statement read.
      await new Plain('Session').destroy(sessionId);
      expect(await new Adapter('Session').findByUid(uid)).toEqual(expected);
      // Once: a second lookup in the same request reads the table again.
      expect(await new Adapter('Session').findByUid(uid)).toBeUndefined();
    });
  });

  it('finds no Session for a session-bound code whose session has ended', async () => {
    const [uid, code] = [randomToken(12), randomToken(12)];
    await new Plain('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', accountId: 'account-1', expiresWithSession: true, sessionUid: uid }, 60);
    await within({}, async () => {
      expect(await new Adapter('AuthorizationCode').find(code)).toMatchObject({ sessionUid: uid });
      expect(await new Adapter('Session').findByUid(uid)).toBeUndefined();
    });
  });

  it("reads a code's account with the code and hands it to the request's findView once; a change in the request reads it again", async () => {
    const stores = createIdentityStores(database);
    const account = await createdAccount(stores, await createdOrganization(stores));
    const code = randomToken(12);
    await new Plain('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', accountId: account.id }, 60);
    const expected = await stores.accounts.findView(account.id);
    expect(expected?.memberships).toHaveLength(1);

    await within({}, async () => {
      await new Adapter('AuthorizationCode').find(code);
      // Renamed by someone else after the code's statement: this request still sees what that statement read…
      await database.db.update(accounts).set({ name: 'Renamed Meanwhile' }).where(eq(accounts.id, account.id));
      expect(await stores.accounts.findView(account.id)).toEqual(expected);
      // …once: the next read is a fresh one.
      expect((await stores.accounts.findView(account.id))?.account.name).toBe('Renamed Meanwhile');

      await new Adapter('AuthorizationCode').find(code);
      await stores.accounts.setStatus(account.id, 'suspended', new Date());
      expect((await stores.accounts.findView(account.id))?.account.status).toBe('suspended');
    });
    // Another request reads the account itself.
    await within({}, async () => expect((await stores.accounts.findView(account.id))?.account.status).toBe('suspended'));
  });

  it("holds back a resumed request's writes until its Session is saved, then saves them and deletes the interaction together", async () => {
    const uid = await finishedInteraction();
    const [grantId, code, sessionId] = [randomToken(12), randomToken(12), randomToken(12)];
    await within(resumeRequest(), async () => {
      await new Adapter('Interaction').destroy(uid);
      await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'account-1', clientId: 'portal' }, 3600);
      await new Adapter('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', grantId, accountId: 'account-1', clientId: 'portal' }, 60);
      // Nothing written yet: another request still sees the interaction and no grant.
      expect(await new Plain('Interaction').find(uid)).toMatchObject({ kind: 'Interaction' });
      expect(await new Plain('Grant').find(grantId)).toBeUndefined();
      await new Adapter('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid: randomToken(8), accountId: 'account-1' }, 600);
    });
    expect(await new Plain('Interaction').find(uid)).toBeUndefined();
    expect(await new Plain('Grant').find(grantId)).toMatchObject({ accountId: 'account-1' });
    expect(await new Plain('AuthorizationCode').find(code)).toMatchObject({ grantId });
    expect(await new Plain('Session').find(sessionId)).toMatchObject({ accountId: 'account-1' });
  });

  it('lets only one of two requests resuming one interaction save anything; the other gets SessionNotFound', async () => {
    const uid = await finishedInteraction();
    const [first, second] = [resumeRequest(), resumeRequest()];
    const codes = [randomToken(12), randomToken(12)];
    await within(first, () => new Adapter('Interaction').destroy(uid));
    await within(second, () => new Adapter('Interaction').destroy(uid));
    await within(first, () => new Adapter('AuthorizationCode').upsert(codes[0]!, { jti: codes[0], kind: 'AuthorizationCode', accountId: 'account-1' }, 60));
    await within(second, () => new Adapter('AuthorizationCode').upsert(codes[1]!, { jti: codes[1], kind: 'AuthorizationCode', accountId: 'account-1' }, 60));
    const sessions = [randomToken(12), randomToken(12)];
    await within(first, () => new Adapter('Session').upsert(sessions[0]!, { jti: sessions[0], kind: 'Session', uid: randomToken(8), accountId: 'account-1' }, 600));
    await expect(
      within(second, () => new Adapter('Session').upsert(sessions[1]!, { jti: sessions[1], kind: 'Session', uid: randomToken(8), accountId: 'account-1' }, 600)),
    ).rejects.toBeInstanceOf(errors.SessionNotFound);
    expect(await new Plain('AuthorizationCode').find(codes[0]!)).toMatchObject({ accountId: 'account-1' });
    expect(await new Plain('AuthorizationCode').find(codes[1]!)).toBeUndefined();
    expect(await new Plain('Session').find(sessions[1]!)).toBeUndefined();
  });

  it('carries out the held-back writes before any other statement of the request, so the request reads what it wrote', async () => {
    const uid = await finishedInteraction();
    const grantId = randomToken(12);
    await within(resumeRequest(), async () => {
      await new Adapter('Interaction').destroy(uid);
      await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'account-1', clientId: 'portal' }, 3600);
      expect(await new Adapter('Grant').find(grantId)).toMatchObject({ jti: grantId });
      expect(await new Adapter('Interaction').find(uid)).toBeUndefined();
    });
    expect(await new Plain('Grant').find(grantId)).toMatchObject({ jti: grantId });
  });

  it('deletes the interaction at once when the resume logs nobody in (an error result), and writes at once outside an authorization request', async () => {
    const uid = await finishedInteraction();
    await within(resumeRequest({ result: { error: 'access_denied' } }), () => new Adapter('Interaction').destroy(uid));
    expect(await new Plain('Interaction').find(uid)).toBeUndefined();

    const grantId = randomToken(12);
    await within({ oidc: { route: 'token', session: { new: false } } }, () =>
      new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'account-1', clientId: 'portal' }, 3600),
    );
    expect(await new Plain('Grant').find(grantId)).toMatchObject({ jti: grantId });
  });

  it('holds back the writes of an authorization request in an existing session (SSO) until its Session is saved, and of a new session none', async () => {
    const [grantId, code, sessionId] = [randomToken(12), randomToken(12), randomToken(12)];
    const sso = { oidc: { route: 'authorization', session: { new: false, touched: false } } };
    await within(sso, async () => {
      await new Adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'account-1', clientId: 'portal' }, 3600);
      await new Adapter('AuthorizationCode').upsert(code, { jti: code, kind: 'AuthorizationCode', grantId, accountId: 'account-1' }, 60);
      expect(await new Plain('Grant').find(grantId)).toBeUndefined();
      await new Adapter('Session').upsert(sessionId, { jti: sessionId, kind: 'Session', uid: randomToken(8), accountId: 'account-1' }, 600);
    });
    expect(await new Plain('AuthorizationCode').find(code)).toMatchObject({ grantId });

    // A first visit (no session yet): the interaction it creates is saved at once, as no Session save follows.
    const uid = randomToken(12);
    await within({ oidc: { route: 'authorization', session: { new: true, touched: false } } }, () => new Adapter('Interaction').upsert(uid, { jti: uid, kind: 'Interaction' }, 600));
    expect(await new Plain('Interaction').find(uid)).toMatchObject({ kind: 'Interaction' });
  });
});
