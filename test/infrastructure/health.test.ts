/**
 * `/healthz` (liveness) and `/readyz` (readiness) on the IdP and the admin console: JSON, no-store, answered
 * within 200 ms whatever the database does; readiness fails while the database hangs, is down, is behind on
 * migrations, or the process is shutting down.
 */
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/index.js';
import { startAdminConsole } from '../../server/admin-console.js';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js';
import { startFaultProxy, type FaultProxy } from '../faults/support/fault-proxy.js';
import { freePort } from './processes.js';

/** One GET, timed. */
async function probe(url: string): Promise<{ status: number; body: Record<string, unknown>; cacheControl: string | null; contentType: string | null; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, cacheControl: response.headers.get('cache-control'), contentType: response.headers.get('content-type'), ms: performance.now() - started };
}

/** Polls `url` until `until` holds for its answer (every 100 ms, up to `timeoutMs`); returns every answer seen. */
async function pollUntil(url: string, until: (answer: Awaited<ReturnType<typeof probe>>) => boolean, timeoutMs = 8000) {
  const answers: Awaited<ReturnType<typeof probe>>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await probe(url);
    answers.push(answer);
    if (until(answer)) return answers;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last answer ${JSON.stringify(answers.at(-1)?.body)}`);
}

describe('health endpoints of the IdP and the admin console', () => {
  let t: TestIdp;
  let consoleUrl: string;
  let stopConsole: () => Promise<unknown>;

  beforeAll(async () => {
    const consolePort = await freePort();
    consoleUrl = `http://127.0.0.1:${consolePort}`;
    t = await startTestIdp({ ADMIN_CONSOLE_PORT: String(consolePort), ADMIN_CONSOLE_URL: consoleUrl });
    stopConsole = await startAdminConsole(t.idp);
  });
  afterAll(async () => {
    await stopConsole?.();
    await t?.close();
  });

  it('answers /healthz and /readyz with JSON, no-store, within 200 ms, on both servers', async () => {
    for (const base of [t.issuer, consoleUrl]) {
      await pollUntil(`${base}/readyz`, (a) => a.status === 200);
      for (let i = 0; i < 3; i++) {
        const live = await probe(`${base}/healthz`);
        expect(live).toMatchObject({ status: 200, body: { status: 'ok' }, cacheControl: 'no-store', contentType: 'application/json; charset=utf-8' });
        expect(live.ms).toBeLessThan(200);
        const ready = await probe(`${base}/readyz`);
        expect(ready).toMatchObject({ status: 200, body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', process: 'ok' } }, cacheControl: 'no-store' });
        expect(ready.body.checkedAt).toEqual(expect.any(String));
        expect(ready.ms).toBeLessThan(200);
      }
    }
  });

  it('answers /readyz 503 while the newest migration is not applied, and 200 once it is again', async () => {
    const { db } = t.idp.database;
    const removed = (await db.execute(sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations) returning hash, created_at`)) as unknown as { rows: { hash: string; created_at: string }[] };
    const row = removed.rows[0]!;
    try {
      const answers = await pollUntil(`${t.issuer}/readyz`, (a) => a.status === 503);
      expect(answers.at(-1)!.body).toMatchObject({ status: 'not_ready', checks: { database: 'ok', migrations: expect.stringMatching(/^pending: /) } });
      expect((await probe(`${consoleUrl}/readyz`)).status).toBe(503);
    } finally {
      await db.execute(sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${row.hash}, ${row.created_at})`);
    }
    await pollUntil(`${t.issuer}/readyz`, (a) => a.status === 200);
  });

  it('answers /readyz 503 shutting_down on both servers once shutdown begins, while /healthz stays 200', async () => {
    t.idp.readiness.beginShutdown();
    for (const base of [t.issuer, consoleUrl]) {
      const ready = await probe(`${base}/readyz`);
      expect(ready).toMatchObject({ status: 503, body: { status: 'shutting_down', checks: { process: 'shutting down' } } });
      expect(ready.ms).toBeLessThan(200);
      expect((await probe(`${base}/healthz`)).status).toBe(200);
    }
  });
});

describe.skipIf(usingPostgresServer)('readiness on the embedded database', () => {
  it('answers /readyz 503 once the embedded database is closed, and /healthz 200', async () => {
    const t = await startTestIdp();
    try {
      await pollUntil(`${t.issuer}/readyz`, (a) => a.status === 200);
      await t.idp.database.close();
      const answers = await pollUntil(`${t.issuer}/readyz`, (a) => a.status === 503);
      expect(answers.at(-1)!.body).toMatchObject({ status: 'not_ready', checks: { database: 'unreachable' } });
      expect(answers.every((a) => a.ms < 200)).toBe(true);
      expect((await probe(`${t.issuer}/healthz`)).status).toBe(200);
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});

describe.skipIf(!usingPostgresServer)('readiness while the PostgreSQL server hangs or is gone (a TCP proxy of the test in between)', () => {
  let proxy: FaultProxy;
  let smtp: SmtpCapture;
  let running: RunningConnectIam;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const db = await separateProcessDatabase();
    dispose = db.dispose;
    proxy = await startFaultProxy(db.env.DATABASE_URL!);
    smtp = await startSmtpCapture();
    const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: proxy.url, SMTP_URL: smtp.url, LOG_LEVEL: 'silent', DEMO_DATA: 'false', DEMO_PORTALS: 'false' });
    running = await startConnectIam({ config });
  });
  afterEach(() => proxy.pass());
  afterAll(async () => {
    await running?.close();
    await proxy?.close();
    await smtp?.close();
    await dispose?.();
  });

  it('answers /readyz 503 within seconds of the database hanging, every answer within 200 ms, and 200 again once it answers', async () => {
    await pollUntil(`${running.issuer}/readyz`, (a) => a.status === 200);
    await proxy.blackhole();
    const hung = await pollUntil(`${running.issuer}/readyz`, (a) => a.status === 503, 5000);
    expect(hung.at(-1)!.body).toMatchObject({ status: 'not_ready', checks: { database: 'did not answer within 1 s', migrations: 'unknown' } });
    const during = [await probe(`${running.issuer}/readyz`), await probe(`${running.issuer}/healthz`), await probe(`${running.issuer}/readyz`)];
    expect(during.map((a) => a.status)).toEqual([503, 200, 503]);
    for (const answer of [...hung, ...during]) expect(answer.ms).toBeLessThan(200);
    await proxy.pass();
    await pollUntil(`${running.issuer}/readyz`, (a) => a.status === 200, 10_000);
  });

  it('answers /readyz 503 unreachable, without naming the host, when the database refuses connections', async () => {
    await pollUntil(`${running.issuer}/readyz`, (a) => a.status === 200);
    await proxy.close();
    const answers = await pollUntil(`${running.issuer}/readyz`, (a) => a.status === 503, 5000);
    expect(answers.at(-1)!.body).toMatchObject({ status: 'not_ready', checks: { database: 'unreachable' } });
    expect(JSON.stringify(answers.at(-1)!.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    expect(answers.every((a) => a.ms < 200)).toBe(true);
  });
});
