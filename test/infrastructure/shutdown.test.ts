/**
 * SIGTERM: `/readyz` fails first, the listener closes, requests in flight finish within
 * SHUTDOWN_GRACE_SECONDS, then the database closes and the process exits (0 after a clean drain).
 * Sign-ins are held in flight by an SMTP server that takes seconds to accept each code email (the outbox worker
 * drains too), and requests whose body never finishes show what happens when the grace period runs out.
 */
import net from 'node:net';
import * as client from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { separateProcessDatabase } from '../support/database.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';
import { arrange, spawnServer, startSlowSmtp, stopServer, untilListening, type ServerProcess, type SlowSmtp } from './processes.js';

const REDIRECT = 'http://localhost:7999/auth/callback';
const PASSWORD = 'correct horse battery staple';
const SIGN_INS = 10;

describe('SIGTERM drains the requests in flight before the database closes', () => {
  let server: ServerProcess | undefined;
  let smtp: SlowSmtp | undefined;
  let dispose: (() => Promise<void>) | undefined;

  afterEach(async () => {
    if (server) await stopServer(server, 'SIGKILL');
    await smtp?.close();
    await dispose?.();
    server = smtp = dispose = undefined;
  });

  /** A deployment with `SIGN_INS` accounts and a client, its server started with `env`; returns the held sign-ins' password pages. */
  async function deployment(env: Record<string, string>, holdMs: number) {
    const db = await separateProcessDatabase();
    dispose = db.dispose;
    smtp = await startSlowSmtp(holdMs);
    const secret = await arrange(db.env, async ({ identity, clients }) => {
      const organization = await identity.organizations.createOrganization({ name: 'Drain Test Ltd', participantIds: ['B07001'] }, 'test');
      for (let i = 0; i < SIGN_INS; i++) {
        await identity.accounts.createAccount(
          { organization: organization.id, userId: `drain.${i}`, name: `Drain ${i}`, email: `drain.${i}@example.com`, phone: '+852 5555 0000', functions: ['EU_UserMaintenance'], delegatedAdministrator: false, password: PASSWORD },
          'test',
        );
      }
      return (await clients.create({ clientId: 'drain-client', redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true })).clientSecret;
    });
    server = await spawnServer({ ...db.env, SMTP_URL: smtp.url, ...env });
    await untilListening(server);
    const rp = await client.discovery(new URL(server.issuer), 'drain-client', secret, undefined, { execute: [client.allowInsecureRequests] });
    const signIns = await Promise.all(
      Array.from({ length: SIGN_INS }, async (_, i) => {
        const ua = new UserAgent();
        const page = await ua.follow((await startAuthorization(rp, REDIRECT)).url.toString());
        expect(page.status).toBe(200);
        return { ua, page, userId: `drain.${i}` };
      }),
    );
    return { signIns, server, smtp };
  }

  it('answers all 10 sign-ins in flight, fails /readyz while draining, sends no mail after the database closed, and exits 0', async () => {
    const { signIns, server: running, smtp: mail } = await deployment({ SHUTDOWN_DELAY_SECONDS: '1', SHUTDOWN_GRACE_SECONDS: '20' }, 2500);
    // Stop at the first answer: the POST's own answer is what must not be lost.
    const answers = signIns.map(({ ua, page, userId }) => ua.submit(page, { 'User ID or email': userId, Password: PASSWORD }, { stopAt: () => true }).catch((error: Error) => error));
    await mail.untilArrived(SIGN_INS);

    running.child.kill('SIGTERM');
    // The signal is handled asynchronously: poll until /readyz answers 503 (SHUTDOWN_DELAY_SECONDS keeps it reachable for 1 s).
    let readyz: { status: number; body: unknown } | undefined;
    for (let tries = 0; tries < 40 && readyz?.status !== 503; tries++) {
      const response = await fetch(`${running.issuer}/readyz`);
      readyz = { status: response.status, body: await response.json() };
      if (readyz.status !== 503) await new Promise((r) => setTimeout(r, 25));
    }
    expect(readyz).toMatchObject({ status: 503, body: { status: 'shutting_down', checks: { process: 'shutting down' } } });

    const results = await Promise.all(answers);
    for (const result of results) {
      expect(result).not.toBeInstanceOf(Error);
      const page = result as Awaited<ReturnType<typeof submitPassword>>;
      expect(page.status, textOf(page.html)).toBeLessThan(400);
    }
    expect(await running.exited).toBe(0);
    const closed = running.logs.find((line) => line.msg === 'database closed');
    expect(closed?.time).toEqual(expect.any(Number));
    expect(mail.accepted).toHaveLength(SIGN_INS);
    for (const sent of mail.accepted) expect(sent.acceptedAt).toBeLessThanOrEqual(closed!.time!);
    expect(running.logs.find((line) => line.msg === 'drained')).toMatchObject({ abandoned: 0 });
  });

  it('exits 1 and logs how many requests were still open when SHUTDOWN_GRACE_SECONDS runs out', async () => {
    const { server: running } = await deployment({ SHUTDOWN_GRACE_SECONDS: '1' }, 0);
    // Requests that stay in flight: headers sent, the body promised but never finished (mail no longer holds a
    // request: it goes through the outbox after the answer).
    const issuer = new URL(running.issuer);
    const sockets = await Promise.all(
      Array.from({ length: SIGN_INS }, () =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect(Number(issuer.port), issuer.hostname, () => {
            socket.write(`POST /password/forgot HTTP/1.1\r\nHost: ${issuer.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nlogin=drain`);
            resolve(socket);
          });
          socket.on('error', () => undefined);
          socket.once('connect', () => socket.off('error', reject)).once('error', reject);
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300)); // let the server see every request's headers
    const signalled = Date.now();
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(6000);
    expect(running.logs.find((line) => line.msg === 'drained')).toMatchObject({ abandoned: SIGN_INS });
    for (const socket of sockets) socket.destroy();
  });
});
