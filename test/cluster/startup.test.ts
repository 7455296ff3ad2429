/**
 * Two instances started at the same moment on an empty PostgreSQL database behind the round-robin proxy
 * (their `ISSUER`), ten times in a row: migrations, the first signing key and the console's client are
 * created once whoever wins, and each console discovers the IdP through the proxy even while the peer it
 * reaches is still starting. test/infrastructure/startup-race.test.ts covers the same start without a proxy.
 *
 * Runs only on a PostgreSQL server (the `postgres` project): two processes cannot share an embedded database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { freePort, spawnServer, stopServer, untilListening, type ServerProcess } from '../infrastructure/processes.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.js';

const RUNS = 10;

describe.skipIf(!usingPostgresServer)('two instances starting together behind a load balancer', () => {
  const ports = { A: { port: 0, consolePort: 0 }, B: { port: 0, consolePort: 0 } };
  let proxy: RoundRobinProxy;
  let consoleProxy: RoundRobinProxy;
  const running: ServerProcess[] = [];

  beforeAll(async () => {
    for (const p of [ports.A, ports.B]) Object.assign(p, { port: await freePort(), consolePort: await freePort() });
    proxy = await startRoundRobinProxy([
      { name: 'A', port: ports.A.port },
      { name: 'B', port: ports.B.port },
    ]);
    consoleProxy = await startRoundRobinProxy([
      { name: 'A', port: ports.A.consolePort },
      { name: 'B', port: ports.B.consolePort },
    ]);
  });
  afterAll(async () => {
    await Promise.all(running.splice(0).map((s) => stopServer(s, 'SIGKILL')));
    await proxy?.close();
    await consoleProxy?.close();
  });

  it(`both reach /readyz 200 (IdP and console) on an empty database, ${RUNS} times in a row, and stop with exit code 0`, { timeout: 420_000 }, async () => {
    for (let run = 1; run <= RUNS; run++) {
      const db = await separateProcessDatabase();
      try {
        const env = { ...db.env, ISSUER: proxy.url, ADMIN_CONSOLE_URL: consoleProxy.url };
        const pair = await Promise.all([spawnServer(env, ports.A), spawnServer(env, ports.B)]);
        running.push(...pair);
        const outcomes = await Promise.all(pair.map((s) => untilListening(s, 90_000).catch((e: Error) => e)));
        for (const [i, outcome] of outcomes.entries()) expect(outcome, `run ${run}, instance ${'AB'[i]}: ${pair[i]!.stderr()}`).not.toBeInstanceOf(Error);
        for (const { port, consolePort } of [ports.A, ports.B]) {
          for (const url of [`http://127.0.0.1:${port}/readyz`, `http://127.0.0.1:${consolePort}/readyz`]) {
            expect((await fetch(url)).status, `run ${run}: ${url}`).toBe(200);
          }
        }
        // Each console registered and found the one `admin-console` client: both answer a signed-out visit with a redirect to the IdP.
        for (const { consolePort } of [ports.A, ports.B]) {
          const visit = await fetch(`http://127.0.0.1:${consolePort}/`, { redirect: 'manual' });
          expect(visit.status, `run ${run}: console on ${consolePort}`).toBeGreaterThanOrEqual(300);
          expect(visit.status).toBeLessThan(400);
        }
        expect(await Promise.all(pair.map((s) => stopServer(s))), `run ${run}`).toEqual([0, 0]);
        running.splice(0);
      } finally {
        await Promise.all(running.splice(0).map((s) => stopServer(s, 'SIGKILL')));
        await db.dispose();
      }
    }
  });
});
