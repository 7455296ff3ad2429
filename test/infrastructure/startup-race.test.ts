/**
 * Instances started together: on one empty PostgreSQL database both come up (migrations, signing keys and the
 * console's client are created once, whoever wins), even when both discover the IdP through the first one's
 * URL (as through a load balancer) before it is up. On the embedded database, a second process on the same
 * folder is refused with a message naming the holder, and the first one keeps running.
 */
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/index.js';
import { ensureFirstPartyClient } from '../../server/first-party-client.js';
import { sealingKeysOf } from '../../server/wiring.js';
import { createClientStore } from '../../storage/index.js';
import { openTestDatabase, separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { freePort, spawnServer, stopServer, untilListening, type ServerProcess } from './processes.js';

const RUNS = 5;

describe('instances starting together', () => {
  const servers: ServerProcess[] = [];
  const disposals: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => stopServer(s, 'SIGKILL')));
    for (const dispose of disposals.splice(0)) await dispose();
  });

  /** Fails with the server's stderr when it exits before listening. */
  const listening = (server: ServerProcess) => untilListening(server, 50_000).then(() => server);

  it.skipIf(!usingPostgresServer)(`both reach ready on an empty PostgreSQL database, ${RUNS} times in a row`, { timeout: 180_000 }, async () => {
    for (let run = 0; run < RUNS; run++) {
      const db = await separateProcessDatabase();
      disposals.push(db.dispose);
      const [portA, consoleA, portB, consoleB] = [await freePort(), await freePort(), await freePort(), await freePort()];
      // Both use A's URL as the issuer, as two instances behind one load balancer address would.
      const issuer = `http://127.0.0.1:${portA}`;
      const pair = await Promise.all([
        spawnServer({ ...db.env, ISSUER: issuer }, { port: portA, consolePort: consoleA }),
        spawnServer({ ...db.env, ISSUER: issuer }, { port: portB, consolePort: consoleB }),
      ]);
      servers.push(...pair);
      const outcomes = await Promise.all(pair.map((s) => listening(s).catch((e: Error) => e)));
      for (const [i, outcome] of outcomes.entries()) expect(outcome, `run ${run + 1}, instance ${'AB'[i]}: ${pair[i]!.stderr()}`).not.toBeInstanceOf(Error);
      for (const url of [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`, `http://127.0.0.1:${consoleA}`, `http://127.0.0.1:${consoleB}`]) {
        const ready = await fetch(`${url}/readyz`);
        expect(ready.status, `run ${run + 1}: ${url}/readyz`).toBe(200);
      }
      expect(await Promise.all(pair.map((s) => stopServer(s)))).toEqual([0, 0]);
      servers.splice(0);
    }
  });

  it('registers the console client once when ten start-ups ask at the same moment, and all get its one secret', async () => {
    const database = await openTestDatabase();
    try {
      const clients = createClientStore(database, sealingKeysOf(loadConfig({})));
      const app = { clientId: 'admin-console', clientName: 'Admin console', origin: 'http://127.0.0.1:3003' };
      // Open the pool's connections first, so the ten look-ups really run side by side (as on ten instances).
      await Promise.all(Array.from({ length: 10 }, () => database.db.execute(sql`select pg_sleep(0.05)`)));
      const secrets = await Promise.all(Array.from({ length: 10 }, () => ensureFirstPartyClient(clients, app)));
      expect(new Set(secrets).size).toBe(1);
      expect((await clients.list()).map((c) => c.clientId)).toEqual(['admin-console']);
    } finally {
      await database.close();
    }
  });

  it.skipIf(usingPostgresServer)('refuses a second process on the same embedded data folder with a clear message, and the first keeps serving', async () => {
    const db = await separateProcessDatabase();
    disposals.push(db.dispose);
    const first = await spawnServer(db.env);
    servers.push(first);
    await listening(first);
    const second = await spawnServer(db.env);
    servers.push(second);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`the embedded database in ${db.env.DATA_DIR}/ is in use by another connect-iam process (pid ${first.child.pid}); stop it, or use the CLI, which connects through that process`);
    const ready = await fetch(`${first.issuer}/readyz`);
    expect(ready.status).toBe(200);
    expect(await stopServer(first)).toBe(0);
  });
});
