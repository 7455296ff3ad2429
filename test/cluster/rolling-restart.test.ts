/**
 * A rolling restart under load: while 200 requests run through the round-robin proxy (discovery, JWKS,
 * userinfo, and sign-ins: authorization, sign-in page, password POST), A gets SIGTERM. A drains what it is
 * serving and exits 0; what the proxy sends to A after its listener closed is refused there and retried on
 * B. Every request gets its ordinary answer — none is reset or answered 5xx. Then A starts again and serves.
 *
 * The proxy retries a refused connection whatever the method (the request never reached A) and a GET or HEAD
 * whose connection broke before any answer; SHUTDOWN_DELAY_SECONDS is 0 here, as behind a balancer that does
 * not poll `/readyz`, so those retries are what keeps every answer.
 *
 * Runs only on a PostgreSQL server (the `postgres` project): two processes cannot share an embedded database.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgresServer } from '../support/database.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';
import { createAccount, createOrganization, PASSWORD, registerClient, startCluster, type Cluster } from './cluster.js';

const REDIRECT = 'http://localhost:7301/auth/callback';
const REQUESTS = 200;
const CONCURRENCY = 8;

/** One request of the load and what came back: an HTTP status, or the error that took its place. */
interface Outcome {
  kind: 'discovery' | 'jwks' | 'userinfo' | 'authorization' | 'sign-in page' | 'password';
  method: 'GET' | 'POST';
  status: number | null;
  error?: string;
}

describe.skipIf(!usingPostgresServer)('rolling restart under load', () => {
  let cluster: Cluster;
  let portal: Awaited<ReturnType<typeof registerClient>>;
  let accessToken: string;
  const users: Array<Awaited<ReturnType<typeof createAccount>>> = [];

  beforeAll(async () => {
    cluster = await startCluster({ SHUTDOWN_DELAY_SECONDS: '0', SHUTDOWN_GRACE_SECONDS: '20' });
    portal = await registerClient(cluster, { clientId: 'cluster-restart', redirectUri: REDIRECT });
    const organization = await createOrganization(cluster, 'Cluster Restart Ltd');
    for (let i = 0; i < 4; i++) users.push(await createAccount(cluster, organization, `cluster.restart${i}`));
    const ua = new UserAgent();
    const auth = await startAuthorization(portal.rp, REDIRECT);
    const tokens = await redeem(portal.rp, await signInToCallback({ ua, auth, login: users[0]!.userId, password: PASSWORD, email: users[0]!.email, smtp: cluster.smtp }), auth);
    accessToken = tokens.access_token;
  }, 150_000);
  afterAll(() => cluster?.close(), 60_000);

  /** Runs the load: `REQUESTS` requests by `CONCURRENCY` workers; `onProgress(done)` after each. */
  async function load(onProgress: (done: number) => void): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const metadata = portal.rp.serverMetadata();
    const record = async (kind: Outcome['kind'], method: Outcome['method'], run: () => Promise<{ status: number }>) => {
      try {
        outcomes.push({ kind, method, status: (await run()).status });
      } catch (error) {
        outcomes.push({ kind, method, status: null, error: error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error) });
      }
      onProgress(outcomes.length);
    };
    let started = 0;
    const take = (n: number) => (started + n <= REQUESTS ? ((started += n), true) : false);
    const worker = async (w: number) => {
      for (let round = 0; ; round++) {
        const kind = (w + round) % 4;
        if (kind === 0) {
          // A sign-in's first three requests: authorization (303), sign-in page (200), password (303 to the code page).
          if (!take(3)) return;
          const ua = new UserAgent();
          // By worker: at most two of the 8 workers sign in as one account at a time. ((w + round) % 4 is always 0
          // here, so every sign-in was users[0]'s: under load 5 of its right passwords could wait on argon2 at
          // once, each holding a lockout reservation, and a sixth was refused as the lockout requires.)
          const user = users[w % users.length]!;
          const auth = await startAuthorization(portal.rp, REDIRECT);
          let location: string | null = null;
          await record('authorization', 'GET', async () => {
            const page = await ua.request(auth.url.toString());
            location = page.headers.get('location');
            return page;
          });
          if (!location) continue;
          let signInPage: Awaited<ReturnType<UserAgent['request']>> | null = null;
          await record('sign-in page', 'GET', async () => (signInPage = await ua.request(new URL(location!, cluster.issuer).toString())));
          if (signInPage === null || (signInPage as { status: number }).status !== 200) continue;
          await record('password', 'POST', () => ua.submit(signInPage!, { 'User ID or email': user.userId, Password: PASSWORD }, { stopAt: () => true }));
        } else {
          if (!take(1)) return;
          if (kind === 1) await record('discovery', 'GET', () => fetch(`${cluster.issuer}/.well-known/openid-configuration`).then(async (r) => (await r.arrayBuffer(), r)));
          if (kind === 2) await record('jwks', 'GET', () => fetch(metadata.jwks_uri!).then(async (r) => (await r.arrayBuffer(), r)));
          if (kind === 3) await record('userinfo', 'GET', () => fetch(metadata.userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } }).then(async (r) => (await r.arrayBuffer(), r)));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    return outcomes;
  }

  it('answers every one of 200 requests while A is stopped with SIGTERM, retrying on B what A refused; A exits 0 and starts again', { timeout: 180_000 }, async () => {
    const a = cluster.instances.A.process;
    const logStart = cluster.proxy.log.length;
    let signalledAt: number | null = null;
    const outcomes = await load((done) => {
      if (done === 40 && signalledAt === null) {
        signalledAt = cluster.proxy.log.length;
        a.child.kill('SIGTERM');
      }
    });

    const failures = outcomes.filter((o) => o.status === null || o.status >= 500);
    expect(failures, JSON.stringify(failures.slice(0, 5))).toEqual([]);
    expect(outcomes).toHaveLength(REQUESTS);
    const expected: Record<Outcome['kind'], number> = { discovery: 200, jwks: 200, userinfo: 200, authorization: 303, 'sign-in page': 200, password: 303 };
    for (const outcome of outcomes) expect(outcome.status, outcome.kind).toBe(expected[outcome.kind]);
    expect(outcomes.filter((o) => o.kind === 'password').length).toBeGreaterThanOrEqual(10);

    expect(await a.exited).toBe(0);
    expect(a.logs.find((line) => line.msg === 'drained')).toMatchObject({ abandoned: 0 });
    const proxied = cluster.proxy.log.slice(logStart);
    const afterSignal = cluster.proxy.log.slice(signalledAt!);
    // A served requests of the load before it stopped, and B took over: requests sent to A after its
    // listener closed were retried there.
    expect(proxied.filter((r) => r.instance === 'A').length).toBeGreaterThan(0);
    expect(afterSignal.filter((r) => r.instance === 'B').length).toBeGreaterThan(0);
    expect(afterSignal.filter((r) => r.retriedFrom.includes('A')).length).toBeGreaterThan(0);
    expect(proxied.filter((r) => r.status === 502)).toEqual([]);

    const restarted = await cluster.restart('A');
    expect((await fetch(`${restarted.url}/readyz`)).status).toBe(200);
    const userinfo = await client.fetchUserInfo(portal.rp, accessToken, users[0]!.id);
    expect(userinfo.sub).toBe(users[0]!.id);
    const discovery = await fetch(`${restarted.url}/.well-known/openid-configuration`);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(cluster.issuer);
  });
});
