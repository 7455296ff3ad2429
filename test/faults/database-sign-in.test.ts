/**
 * The database hangs or stops while sign-ins are in flight: every request gets an answer (503) within a few
 * seconds, `/readyz` fails while `/healthz` stays up (both within 200 ms), and once the database answers again
 * the same process signs people in, with nothing left half-done that outlives the next sign-in.
 *
 * PostgreSQL server only (the postgres project): the faults are played by a TCP proxy between the app's pool
 * and the server; the embedded database runs in-process, with no connection to hang or reset.
 */
import pg from 'pg';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/index.js';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization, submitPassword } from '../support/sign-in.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

const REDIRECT = 'http://localhost:7997/auth/callback';
/** Every request answers within this while the database is unusable: the bounds below are 1 s (2 s for a silent server), twice on a request's path at most. */
const ANSWER_BOUND_MS = 5000;

/** One GET of a health endpoint, timed. */
async function probe(url: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

/** Runs `run` and times it; an Error (not a throw) when it gave no answer within 20 s, so a hang fails the test instead of stalling it. */
async function timed<T>(run: () => Promise<T>): Promise<{ answer: T | Error; ms: number }> {
  const started = performance.now();
  const answer = await Promise.race([run().catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))), new Promise<Error>((r) => setTimeout(() => r(new Error('no answer within 20 s')), 20_000))]);
  return { answer, ms: performance.now() - started };
}

const FAULTS = {
  'hangs (black hole)': (proxy: FaultProxy) => proxy.blackhole(),
  'resets every connection': (proxy: FaultProxy) => proxy.reset(),
  'stops (connections reset, new ones refused)': async (proxy: FaultProxy) => {
    await proxy.reset();
    await proxy.refuse();
  },
} as const;

// Runs only in the postgres project (TEST_DATABASE_URL): the embedded database has no connection to hang or reset.
describe.skipIf(!usingPostgresServer)('database faults during sign-ins (a TCP proxy between the pool and PostgreSQL)', () => {
  let proxy: FaultProxy;
  let smtp: SmtpCapture;
  let running: RunningConnectIam;
  let direct: pg.Client;
  let dispose: () => Promise<void>;
  let rp: client.Configuration;
  let organizationId: string;
  let accounts = 0;

  beforeAll(async () => {
    const db = await separateProcessDatabase();
    dispose = db.dispose;
    proxy = await startFaultProxy(db.env.DATABASE_URL!);
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
      DATABASE_CONNECT_TIMEOUT_SECONDS: '1',
      DATABASE_STATEMENT_TIMEOUT_SECONDS: '1',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '1',
      SIGN_IN_RATE_LIMIT_PER_IP: '10000',
    });
    running = await startConnectIam({ config });
    direct = new pg.Client({ connectionString: db.env.DATABASE_URL });
    await direct.connect();
    const created = await running.clients.create({ clientId: 'fault-client', redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true });
    rp = await client.discovery(new URL(running.issuer), created.clientId, created.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  });
  afterEach(() => proxy.pass());
  afterAll(async () => {
    await direct?.end();
    await running?.close();
    await proxy?.close();
    await smtp?.close();
    await dispose?.();
  });

  /** A new account that signs in with its password and an emailed code (a new organization every 15, within the quota). */
  async function newAccount(): Promise<{ id: string; userId: string; email: string }> {
    if (accounts % 15 === 0) organizationId = (await running.identity.organizations.createOrganization({ name: `Fault Test ${accounts / 15 + 1} Ltd`, participantIds: [`B${7100 + accounts}`] }, 'test')).id;
    const userId = `fault.${++accounts}`;
    const email = `${userId}@example.com`;
    const { account } = await running.identity.accounts.createAccount(
      { organization: organizationId, userId, name: `Fault ${accounts}`, email, phone: '+852 5555 0000', functions: ['EU_UserMaintenance'], delegatedAdministrator: false, password: TEST_PASSWORD },
      'test',
    );
    return { id: account.id, userId, email };
  }

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

  /** Waits until `/readyz` answers `status` (every 100 ms, up to `timeoutMs`); returns every answer seen. */
  async function readinessBecomes(status: number, timeoutMs: number) {
    const answers: { status: number; ms: number }[] = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      answers.push(await probe(`${running.issuer}/readyz`));
      if (answers.at(-1)!.status === status) return answers;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`/readyz did not answer ${status} within ${timeoutMs} ms`);
  }

  /** A whole sign-in of `account` (a new one by default), code redeemed at the token endpoint. */
  async function signsIn(account?: { id: string; userId: string; email: string }) {
    account ??= await newAccount();
    const auth = await startAuthorization(rp, REDIRECT);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: account.userId, password: TEST_PASSWORD, email: account.email, smtp });
    const tokens = await redeem(rp, callback, auth);
    expect(tokens.claims()?.sub).toBe(account.id);
  }

  for (const [fault, play] of Object.entries(FAULTS)) {
    it(`answers every sign-in 503 within seconds when the database ${fault} mid-request, fails /readyz but not /healthz, and signs people in again once it is back`, async () => {
      await readinessBecomes(200, 10_000);
      const people: Awaited<ReturnType<typeof newAccount>>[] = [];
      for (let i = 0; i < 8; i++) people.push(await newAccount());
      const pages = await signInPages(people.length);
      // Slow the database down so that every POST is waiting on it when the fault comes.
      await proxy.delay(150);
      const posts = pages.map(({ ua, page }, i) => timed(() => submitPassword(ua, page, people[i]!.userId, TEST_PASSWORD)));
      await new Promise((r) => setTimeout(r, 100));
      await play(proxy);
      const newcomer = timed(async () => new UserAgent().request((await startAuthorization(rp, REDIRECT)).url.toString()));

      const readiness = await readinessBecomes(503, 3000);
      const health = [await probe(`${running.issuer}/healthz`), await probe(`${running.issuer}/readyz`), await probe(`${running.issuer}/healthz`)];
      expect(health.map((a) => a.status)).toEqual([200, 503, 200]);
      for (const answer of [...readiness, ...health]) expect(answer.ms).toBeLessThan(200);

      for (const { answer, ms } of await Promise.all(posts)) {
        expect(answer).not.toBeInstanceOf(Error);
        const page = answer as Page;
        expect(page.status, textOf(page.html).slice(0, 200)).toBe(503);
        expect(textOf(page.html)).toMatch(/temporarily unavailable/i);
        expect(ms).toBeLessThan(ANSWER_BOUND_MS);
      }
      const authorization = await newcomer;
      expect((authorization.answer as Page).status).toBe(503);
      expect(authorization.ms).toBeLessThan(ANSWER_BOUND_MS);

      await proxy.pass();
      await readinessBecomes(200, 10_000);
      await signsIn();
    });
  }

  it('counts a right password cut off between its lockout reservation and its release as one failure (fail closed), with no failed sign-in in the audit log, and the next completed sign-in clears it', async () => {
    await readinessBecomes(200, 10_000);
    const person = await newAccount();
    const [{ ua, page }] = (await signInPages(1)) as [{ ua: UserAgent; page: Page }];
    const lockout = async () => (await direct.query('select cardinality(failure_times)::int as failures, consecutive_failures from lockouts where account_id = $1', [person.id])).rows[0];
    const failedSignIns = async () => (await direct.query("select count(*)::int as n from audit_events where account_id = $1 and type = 'account.sign_in_failed'", [person.id])).rows[0].n;

    // The release is the UPDATE that takes the reservation's time back out of failure_times.
    const cut = proxy.resetWhen((chunk, direction) => direction === 'up' && chunk.includes('update "lockouts"') && chunk.includes('array_position'));
    const { answer, ms } = await timed(() => submitPassword(ua, page, person.userId, TEST_PASSWORD));
    await cut;
    expect((answer as Page).status).toBe(503);
    expect(ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(await lockout()).toEqual({ failures: 1, consecutive_failures: 1 });
    expect(await failedSignIns()).toBe(0);

    await signsIn(person);
    expect(await lockout()).toEqual({ failures: 0, consecutive_failures: 0 });
    expect(await failedSignIns()).toBe(0);
  });
});
