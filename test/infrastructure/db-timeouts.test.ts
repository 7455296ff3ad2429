/**
 * Every wait on PostgreSQL is bounded (DATABASE_CONNECT_TIMEOUT_SECONDS, DATABASE_STATEMENT_TIMEOUT_SECONDS,
 * DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS): a hung database, a full pool or a statement stuck behind a
 * lock answer 503 within seconds instead of holding requests for as long as the database hangs.
 * PostgreSQL server only: the embedded database runs in-process, with no network or pool to hang.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isUnavailable, loadConfig } from '../../lib/index.js';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';
import { startFaultProxy, type FaultProxy } from '../faults/support/fault-proxy.js';

const REDIRECT = 'http://localhost:7998/auth/callback';

// Runs only in the postgres project (TEST_DATABASE_URL): the embedded database has no network, pool or server-side timeouts to test.
describe.skipIf(!usingPostgresServer)('bounded waits on the PostgreSQL server (a TCP proxy of the test in between)', () => {
  let proxy: FaultProxy;
  let smtp: SmtpCapture;
  let running: RunningConnectIam;
  let directUrl: string;
  let dispose: () => Promise<void>;
  let rp: client.Configuration;

  beforeAll(async () => {
    const db = await separateProcessDatabase();
    dispose = db.dispose;
    directUrl = db.env.DATABASE_URL!;
    proxy = await startFaultProxy(directUrl);
    smtp = await startSmtpCapture();
    const config = loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: proxy.url,
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'silent',
      DEMO_DATA: 'false',
      DEMO_PORTALS: 'false',
      DATABASE_POOL_SIZE: '4',
      DATABASE_CONNECT_TIMEOUT_SECONDS: '2',
      DATABASE_STATEMENT_TIMEOUT_SECONDS: '2',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '1',
    });
    running = await startConnectIam({ config });
    const organization = await running.identity.organizations.createOrganization({ name: 'Timeout Test Ltd', participantIds: ['B07002'] }, 'test');
    for (let i = 0; i < 12; i++) {
      await running.identity.accounts.createAccount(
        { organization: organization.id, userId: `slow.${i}`, name: `Slow ${i}`, email: `slow.${i}@example.com`, phone: '+852 5555 0000', functions: ['EU_UserMaintenance'], delegatedAdministrator: false, password: TEST_PASSWORD },
        'test',
      );
    }
    const created = await running.clients.create({ clientId: 'timeout-client', redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true });
    rp = await client.discovery(new URL(running.issuer), created.clientId, created.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  });
  afterEach(() => proxy.pass());
  afterAll(async () => {
    await running?.close();
    await proxy?.close();
    await smtp?.close();
    await dispose?.();
  });

  /** Opens `count` sign-in pages while the database answers. */
  const signInPages = (count: number) =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const ua = new UserAgent();
        const page = await ua.follow((await startAuthorization(rp, REDIRECT)).url.toString());
        expect(page.status).toBe(200);
        return { ua, page };
      }),
    );

  /** Submits the password, giving up (as an Error) after 20 s so a hung request fails the test instead of stalling it. */
  const submit = async (ua: UserAgent, page: Page, userId: string) => {
    const started = performance.now();
    const answer = await Promise.race([
      submitPassword(ua, page, userId, TEST_PASSWORD),
      new Promise<Error>((resolve) => setTimeout(() => resolve(new Error('no answer within 20 s')), 20_000)),
    ]);
    return { answer, seconds: (performance.now() - started) / 1000 };
  };

  it('answers password POSTs with 503 within a few seconds while the database hangs, three times more of them than the pool holds', async () => {
    const pages = await signInPages(12);
    await proxy.blackhole();
    const results = await Promise.all(pages.map(({ ua, page }, i) => submit(ua, page, `slow.${i}`)));
    for (const { answer, seconds } of results) {
      expect(answer).not.toBeInstanceOf(Error);
      const page = answer as Page;
      expect(page.status, textOf(page.html).slice(0, 200)).toBe(503);
      expect(textOf(page.html)).toMatch(/temporarily unavailable/i);
      // statement bound 2 s (+1 s client-side) or connect/acquire bound 2 s, each at most twice on the request's path
      expect(seconds).toBeLessThan(8);
    }
    await proxy.pass();
    const [again] = await signInPages(1);
    const { answer } = await submit(again!.ua, again!.page, 'slow.0');
    expect((answer as Page).status).toBeLessThan(400);
  });

  it('cancels a statement stuck behind a lock after DATABASE_STATEMENT_TIMEOUT_SECONDS and answers 503', async () => {
    const [{ ua, page }] = (await signInPages(1)) as [{ ua: UserAgent; page: Page }];
    const holder = new pg.Client({ connectionString: directUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table accounts in access exclusive mode');
      const { answer, seconds } = await submit(ua, page, 'slow.1');
      expect((answer as Page).status).toBe(503);
      expect(seconds).toBeLessThan(6);
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
  });

  it('ends a transaction left idle past DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS, with an error that answers 503', async () => {
    // The pool's idle connections were reset with the proxy's: wait for one that works.
    for (let tries = 0; tries < 20; tries++) {
      if (await running.database.db.execute(sql`select 1`).then(() => true, () => false)) break;
    }
    const started = performance.now();
    const error = await running.database.db
      .transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await new Promise((r) => setTimeout(r, 2500));
        await tx.execute(sql`select 1`);
      })
      .then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(performance.now() - started).toBeGreaterThan(2000);
    expect(isUnavailable(error)).toBe(true);
    expect(await running.database.db.execute(sql`select 1 as one`)).toMatchObject({ rows: [{ one: 1 }] });
  });
});
