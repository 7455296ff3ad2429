/**
 * Signing key rotation with two instances: `npm run iam -- keys rotate` writes a new key to the shared
 * database; each instance re-reads the key set every SIGNING_KEY_RELOAD_SECONDS (2 s here), so B publishes
 * the new key within that interval, and still publishes the old key for tokens signed before. No instance
 * signs with the new key before SIGNING_KEY_PUBLISH_AHEAD_SECONDS (4 s here, at least twice the interval) have
 * passed, after every instance publishes it, so a relying party that fetches the JWKS through the load balancer
 * always finds the `kid` of the token it holds. `keys rotate --now` skips that wait.
 *
 * Runs only on a PostgreSQL server (the `postgres` project): two processes cannot share an embedded database.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgresServer } from '../support/database.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { ClusterAgent, createAccount, createOrganization, PASSWORD, registerClient, relyingParty, startCluster, type Cluster, type InstanceName } from './cluster.js';

const REDIRECT = 'http://localhost:7201/auth/callback';
const RELOAD_SECONDS = 2;
const PUBLISH_AHEAD_SECONDS = 4;
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the operator CLI (`server/cli.ts`, what `npm run iam --` runs) with `env`; resolves with its stdout, rejects on a non-zero exit. */
function iam(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { cwd: root, env: { ...process.env, ...env, LOG_LEVEL: 'silent', NODE_ENV: 'test' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`iam ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

describe.skipIf(!usingPostgresServer)('signing key rotation seen by every instance', () => {
  let cluster: Cluster;
  let portal: Awaited<ReturnType<typeof registerClient>>;
  let user: Awaited<ReturnType<typeof createAccount>>;
  const ua = new ClusterAgent();

  beforeAll(async () => {
    cluster = await startCluster({ SIGNING_KEY_RELOAD_SECONDS: String(RELOAD_SECONDS), SIGNING_KEY_PUBLISH_AHEAD_SECONDS: String(PUBLISH_AHEAD_SECONDS) });
    portal = await registerClient(cluster, { clientId: 'cluster-rotation', redirectUri: REDIRECT });
    user = await createAccount(cluster, await createOrganization(cluster, 'Cluster Keys Ltd'), 'cluster.keys');
    const auth = await startAuthorization(portal.rp, REDIRECT);
    await redeem(portal.rp, await signInToCallback({ ua, auth, login: user.userId, password: PASSWORD, email: user.email, smtp: cluster.smtp }), auth);
  }, 150_000);
  afterAll(() => cluster?.close(), 60_000);

  /** The kids instance `name` publishes, asked directly (not through the proxy). */
  async function kidsOf(name: InstanceName): Promise<string[]> {
    const jwksPath = new URL(portal.rp.serverMetadata().jwks_uri!).pathname;
    const response = await fetch(`${cluster.instances[name].url}${jwksPath}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  }

  /** An ID token issued by instance `name` (authorization through the proxy with the existing session, token request on `name`). */
  const pinnedRps: Partial<Record<InstanceName, Awaited<ReturnType<typeof relyingParty>>>> = {};
  async function idTokenFrom(name: InstanceName): Promise<string> {
    const rp = (pinnedRps[name] ??= await relyingParty(cluster, portal.clientId, portal.clientSecret, name));
    const auth = await startAuthorization(rp, REDIRECT);
    const first = await ua.follow(auth.url.toString(), {}, (next) => next.startsWith(REDIRECT));
    expect(first.redirectedTo).toBeDefined();
    return (await redeem(rp, new URL(first.redirectedTo!), auth)).id_token!;
  }

  it(`publishes a key rotated by the CLI on B within SIGNING_KEY_RELOAD_SECONDS (${RELOAD_SECONDS} s), and signs with it on A and B only after SIGNING_KEY_PUBLISH_AHEAD_SECONDS (${PUBLISH_AHEAD_SECONDS} s), once both publish it`, { timeout: 60_000 }, async () => {
    const [oldKid] = await kidsOf('B');
    expect(decodeProtectedHeader(await idTokenFrom('B')).kid).toBe(oldKid);

    const rotationStarted = Date.now();
    const output = await iam(['keys', 'rotate'], cluster.env);
    const newKid = /new signing key (\S+?);/.exec(output)?.[1];
    expect(newKid, output).toBeDefined();
    expect(output).toContain(`(in ${PUBLISH_AHEAD_SECONDS} s, SIGNING_KEY_PUBLISH_AHEAD_SECONDS)`);
    // Milliseconds after rotationStarted at which each instance was first seen publishing / signing with the new key.
    const publishedAt: Partial<Record<InstanceName, number>> = {};
    const signedAt: Partial<Record<InstanceName, number>> = {};
    while ((signedAt.A === undefined || signedAt.B === undefined) && Date.now() - rotationStarted < 30_000) {
      for (const name of ['B', 'A'] as const) {
        if (publishedAt[name] === undefined && (await kidsOf(name)).includes(newKid!)) publishedAt[name] = Date.now() - rotationStarted;
        if (signedAt[name] !== undefined) continue;
        const kid = decodeProtectedHeader(await idTokenFrom(name)).kid;
        if (kid !== newKid) continue;
        signedAt[name] = Date.now() - rotationStarted;
        // The moment a token carries the new kid, every instance's JWKS holds it.
        for (const other of ['A', 'B'] as const) {
          const published = await kidsOf(other);
          expect(published, `JWKS of ${other} once ${name} signed with ${newKid}`).toContain(newKid);
          publishedAt[other] ??= Date.now() - rotationStarted;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await kidsOf('B')).toEqual([newKid, oldKid]);
    // One reload interval, plus the time to build the provider again on this shared 2-core machine.
    expect(publishedAt.B, 'B published the new key after (ms)').toBeLessThan(RELOAD_SECONDS * 1000 + 4000);
    expect(publishedAt.A, 'A published the new key after (ms)').toBeLessThan(RELOAD_SECONDS * 1000 + 4000);
    // Signing starts at the key's sign_from, publish-ahead after the rotation: after both instances published it.
    for (const name of ['A', 'B'] as const) {
      expect(signedAt[name], `${name} signed with the new key after (ms)`).toBeGreaterThanOrEqual(PUBLISH_AHEAD_SECONDS * 1000);
      expect(signedAt[name]).toBeGreaterThan(Math.max(publishedAt.A!, publishedAt.B!));
    }
  });
});
