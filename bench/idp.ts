/**
 * connect-iam under test: the real server (`server/main.ts`, as `npm start` runs it, with the demo data and
 * demo portals off) as a child process, embedded (PGlite under a fresh temporary `DATA_DIR`) or on a fresh
 * database of a PostgreSQL server reached through the {@link WireCounter}. Its accounts and clients are made
 * through the identity services over the CLI's connection (the server's local socket for PGlite).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { createLogger, loadConfig, systemClock } from '../lib/index.js';
import { sealingKeysOf, wireIdentity } from '../server/wiring.js';
import { createClientStore, openDatabaseForCli } from '../storage/index.js';
import { freePort, logged, startChild, type Child } from './children.js';
import { memoryOf } from './proc.js';
import { startWireCounter, type WireCounter } from './wire-counter.js';

/** Which database the server runs on. */
export type DatabaseKind = 'pglite' | 'postgres';

/** The password of every bench account. */
export const BENCH_PASSWORD = 'bench passphrase for sign-ins 2026';
/** Where the bench's relying party says it is redirected to (never requested: the flow stops at the redirect). */
export const REDIRECT_URI = 'http://localhost:7599/callback';
/** Accounts made per server: one per load worker, so that each worker reads its own emailed codes. */
export const ACCOUNTS = 4;

/** A bench account. */
export interface BenchAccount {
  userId: string;
  email: string;
}

/** A running server under test. */
export interface IdpUnderTest {
  kind: DatabaseKind;
  child: Child;
  issuer: string;
  accounts: BenchAccount[];
  /** The relying party's client. */
  client: { clientId: string; clientSecret: string };
  /** The bench portal's client (registered for `portalOrigin`). */
  portalClient: { clientId: string; clientSecret: string };
  /** The wire counter between the server and PostgreSQL (postgres only). */
  wire?: WireCounter;
  /** Seconds from spawn to ready (with the fresh database), and the peak RSS of its process tree meanwhile, MiB. */
  startSeconds: number;
  startPeakMiB: number;
  /** The server process's own peak RSS (VmHWM) when ready, MiB. */
  startHwmMiB: number;
  /** The PostgreSQL version string of the server's database. */
  databaseVersion: string;
  stop(): Promise<void>;
}

/** A fresh database on the server at `adminUrl`; `drop()` removes it. */
async function freshDatabase(adminUrl: string): Promise<{ url: URL; drop(): Promise<void> }> {
  const name = `connect_iam_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url,
    async drop() {
      const again = new pg.Client({ connectionString: adminUrl });
      await again.connect();
      await again.query(`drop database if exists "${name}" with (force)`);
      await again.end();
    },
  };
}

/**
 * Starts the server on `kind`, sending mail to `smtpUrl`, and seeds one organization, {@link ACCOUNTS}
 * accounts and two clients (`portalOrigin` is the bench portal's origin).
 * @param adminUrl - a PostgreSQL server URL with rights to create databases (postgres only).
 */
export async function startIdp(kind: DatabaseKind, options: { smtpUrl: string; adminUrl: string; portalOrigin: string }): Promise<IdpUnderTest> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `connect-iam-bench-${kind}-`));
  const port = await freePort();
  const consolePort = await freePort();
  let database: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  let wire: WireCounter | undefined;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: `http://127.0.0.1:${port}`,
    ADMIN_CONSOLE_PORT: String(consolePort),
    ADMIN_CONSOLE_URL: `http://127.0.0.1:${consolePort}`,
    DATA_DIR: dataDir,
    SMTP_URL: options.smtpUrl,
    DEMO_DATA: 'false',
    DEMO_PORTALS: 'false',
    LOG_LEVEL: 'info',
    // The load generator's keep-alive connections stay open to the end: a short drain lets the server exit on
    // its own before stop()'s SIGKILL (15 s), so that a CPU profile (BENCH_CPU_PROF_DIR) is written.
    SHUTDOWN_GRACE_SECONDS: '2',
  };
  const cleanup = async () => {
    await wire?.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  let child: Child;
  try {
    if (kind === 'postgres') {
      database = await freshDatabase(options.adminUrl);
      wire = await startWireCounter({ host: database.url.hostname, port: Number(database.url.port || 5432) });
      const proxied = new URL(database.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(wire.port);
      env.DATABASE_URL = proxied.toString();
    }
    child = await startChild(`connect-iam (${kind})`, 'server/main.ts', env, logged('admin console listening'));
  } catch (error) {
    await cleanup();
    throw error;
  }
  const startHwmMiB = memoryOf(child.pid)?.hwmMiB ?? NaN;
  try {
    // The seeding connection bypasses the wire counter (PostgreSQL) or uses the server's CLI socket (PGlite).
    const seeded = await seed({ ...env, ...(database ? { DATABASE_URL: database.url.toString() } : {}) }, kind, options.portalOrigin);
    return {
      kind,
      child,
      issuer: env.ISSUER!,
      ...seeded,
      wire,
      startSeconds: child.startSeconds,
      startPeakMiB: child.startPeakMiB,
      startHwmMiB,
      async stop() {
        await child.stop();
        await cleanup();
      },
    };
  } catch (error) {
    await child.stop();
    await cleanup();
    throw new Error(`seeding ${kind} failed; server said:\n${child.output().slice(-2000)}`, { cause: error });
  }
}

/** The organization, accounts and clients of one server, made through the identity services and the client store. */
async function seed(env: Record<string, string>, kind: DatabaseKind, portalOrigin: string) {
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
  const database = await openDatabaseForCli({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    const identity = wireIdentity(config, database, { mailer: { send: async () => {} }, clock: systemClock, logger: createLogger('silent') });
    const organization = await identity.organizations.createOrganization({ name: 'Bench Securities Limited', participantIds: ['B00001'] }, 'bench');
    const accounts: BenchAccount[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = { userId: `bench.${kind}.${i}`, email: `bench.${kind}.${i}@example.com` };
      await identity.accounts.createAccount(
        { organization: organization.id, ...account, name: `Bench ${i}`, phone: '+852 5555 0000', functions: ['EU_UserMaintenance'], delegatedAdministrator: false, password: BENCH_PASSWORD },
        'bench',
      );
      accounts.push(account);
    }
    const clients = createClientStore(database, sealingKeysOf(config));
    const rp = await clients.create({ clientId: 'bench-rp', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [], firstParty: true });
    const portal = await clients.create({ clientId: 'bench-portal', redirectUris: [`${portalOrigin}/auth/callback`], postLogoutRedirectUris: [`${portalOrigin}/`], firstParty: true });
    const version = (await database.db.execute(sql`select version() as v`)) as unknown as { rows: { v: string }[] };
    return {
      accounts,
      client: { clientId: rp.clientId, clientSecret: rp.clientSecret! },
      portalClient: { clientId: portal.clientId, clientSecret: portal.clientSecret! },
      databaseVersion: version.rows[0]?.v ?? 'unknown',
    };
  } finally {
    await database.close();
  }
}
