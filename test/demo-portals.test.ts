/**
 * Demo portals start whenever DEMO_PORTALS is on (issue 12 §6): a newcomer who runs a CLI command before the first
 * `npm start` (here `iam --init organization create`) used to get no demo clients — the seeding of an empty
 * database was skipped — so ports 3001 and 3002 stayed closed while the log said "sign in at http://localhost:3001".
 * Now `npm start` registers the portals' clients when they are missing and starts both portals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, stopServer, untilListening, type ServerProcess } from './infrastructure/processes.js';
import { startCliHarness, type CliHarness } from './support/cli.js';
import { freePort } from './support/ports.js';

describe('npm start after a CLI command on a new database', () => {
  let cli: CliHarness;
  let server: ServerProcess | undefined;
  const ports = { eservice: 0, ecp: 0, sftp: 0 };

  beforeAll(async () => {
    cli = await startCliHarness();
    const created = await cli.iam(['organization', 'create', '--name', 'Early Brokers Ltd', '--participant-id', 'B07777']);
    expect(created.code, created.stderr).toBe(0);
    for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
    server = await spawnServer({
      ...cli.env,
      DEMO_DATA: 'true',
      DEMO_PORTALS: 'true',
      ESERVICE_PORTAL_PORT: String(ports.eservice),
      ECP_PORT: String(ports.ecp),
      SFTP_PORT: String(ports.sftp),
    });
    await untilListening(server, 150_000);
  }, 180_000);
  afterAll(async () => {
    if (server) await stopServer(server);
    await cli?.dispose();
  });

  it('registers the demo clients and starts both portals, as the log line promises', async () => {
    const signInLine = await server!.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('sign in at'));
    expect(signInLine.msg).toContain(`http://localhost:${ports.eservice}`);
    for (const [clientId, port] of [['eservice-portal', ports.eservice], ['ecp', ports.ecp]] as const) {
      // The portal answers, and its sign-in goes to the IdP as the registered client.
      const login = await fetch(`http://localhost:${port}/auth/login`, { redirect: 'manual' });
      expect(login.status, clientId).toBe(303);
      const authorization = new URL(login.headers.get('location')!);
      expect(authorization.origin).toBe(server!.issuer);
      expect(authorization.searchParams.get('client_id')).toBe(clientId);
      // The IdP knows the client: it starts an interaction (the sign-in page) rather than showing invalid_client.
      const started = await fetch(authorization, { redirect: 'manual' });
      expect(started.status, clientId).toBe(303);
      expect(started.headers.get('location'), clientId).toMatch(/\/interaction\//);
    }
    expect(server!.logs.some((line) => /demo portals not started/.test(String(line.msg)))).toBe(false);
  });
});
