import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgresServer } from '../support/database.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7501/auth/callback';

describe('database down: fail fast with 503 and an error id, fail closed, recover (design/security.md §12)', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;
  let user: Awaited<ReturnType<TestIdp['createAccount']>>;
  let databaseName: string;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await t.registerClient({ clientId: 'resilience-client', redirectUri: REDIRECT });
    user = await t.createAccount({ userId: 'resilience.user' });
    const result = await t.idp.database.db.execute(sql`select current_database() as name`);
    databaseName = ((result as { rows?: { name: string }[] }).rows ?? (result as unknown as { name: string }[]))[0]!.name;
  });
  afterAll(async () => {
    await t?.close().catch(() => undefined);
  });

  /** Runs SQL on the server's maintenance database (not the one under test). */
  async function onServer(statement: string): Promise<void> {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(statement);
    } finally {
      await admin.end();
    }
  }

  async function takeDown(): Promise<void> {
    if (usingPostgresServer) {
      await onServer(`alter database "${databaseName}" allow_connections false`);
      await onServer(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${databaseName}' and pid <> pg_backend_pid()`);
    } else {
      await t.idp.database.close();
    }
  }

  it('answers the sign-in form, the authorization and the token endpoints with 503 while the database is away, and recovers', async () => {
    const ua = new UserAgent();
    const auth = await startAuthorization(c.rp, REDIRECT);
    const signInPage = await ua.follow(auth.url.toString());
    expect(signInPage.status).toBe(200);

    await takeDown();

    const started = performance.now();
    const password = await submitPassword(ua, signInPage, user.userId, user.password);
    expect(password.status).toBe(503);
    expect(textOf(password.html)).toMatch(/temporarily unavailable/i);
    expect(textOf(password.html)).toMatch(/error id|reference/i);
    expect(password.html).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(password.headers.get('location')).toBeNull();

    const authorize = await new UserAgent().request((await startAuthorization(c.rp, REDIRECT)).url.toString());
    expect(authorize.status).toBe(503);
    expect(authorize.headers.get('retry-after')).toBe('5');

    const token = await fetch(c.rp.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'whatever', redirect_uri: REDIRECT, code_verifier: 'x'.repeat(43) }),
    });
    expect(token.status).toBe(503);
    expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });
    // Fail fast: the pool's connect timeout is 5 s; nothing here waits for more than one of them.
    expect(performance.now() - started).toBeLessThan(20_000);

    if (!usingPostgresServer) return; // an embedded database closed in-process does not come back
    await onServer(`alter database "${databaseName}" allow_connections true`);
    const again = await new UserAgent().follow((await startAuthorization(c.rp, REDIRECT)).url.toString());
    expect(again.status).toBe(200);
    expect(textOf(again.html)).toContain('User ID or email');
  });
});
