/**
 * Two connect-iam instances as an operator runs them behind a load balancer: separate processes
 * (`server/main.ts`, IdP and admin console, no demo) on one PostgreSQL database, with the same `ISSUER` (the
 * proxy's URL), `ADMIN_CONSOLE_URL` (the console proxy's), `COOKIE_KEYS` and `ENCRYPTION_KEY`, behind two
 * round-robin proxies of the test's own (round-robin-proxy.ts), and one SMTP capture both send to.
 *
 * The test process opens the same database too, to arrange accounts and clients and to read audit events:
 * only a PostgreSQL server can be shared by processes, so the cluster files skip in the pglite project.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import * as client from 'openid-client';
import type { Identity } from '../../identity/index.js';
import { createLogger, loadConfig, systemClock, type Clock, type Config } from '../../lib/index.js';
import { sealingKeysOf, wireIdentity } from '../../server/wiring.js';
import { createClientStore, openDatabase, type ClientStore, type Database } from '../../storage/index.js';
import { separateProcessDatabase } from '../support/database.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js';
import { UserAgent, type Page } from '../support/user-agent.js';
import { freePort, spawnServer, stopServer, untilListening, type ServerProcess } from '../infrastructure/processes.js';
import { PIN_HEADER, startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.js';

/** The instances' names, as the proxies log them. */
export type InstanceName = 'A' | 'B';

/** One instance: its process (replaced by {@link Cluster.restart}) and its own URLs, bypassing the proxies. */
export interface Instance {
  name: InstanceName;
  process: ServerProcess;
  /** `http://127.0.0.1:<PORT>`: the IdP of this instance only. */
  url: string;
  /** `http://127.0.0.1:<ADMIN_CONSOLE_PORT>`: the console of this instance only. */
  consoleUrl: string;
}

/** A running cluster. */
export interface Cluster {
  /** The proxy's URL: `ISSUER` of both instances. */
  issuer: string;
  /** The console proxy's URL: `ADMIN_CONSOLE_URL` of both instances. */
  consoleUrl: string;
  proxy: RoundRobinProxy;
  consoleProxy: RoundRobinProxy;
  instances: Record<InstanceName, Instance>;
  smtp: SmtpCapture;
  /** The environment both instances got (database, keys, URLs, limits), for the CLI too. */
  env: Record<string, string>;
  /** The test process's own connection to the cluster's database, with identity services over it (mail dropped). */
  database: Database;
  identity: Identity;
  clients: ClientStore;
  /** Identity services over the same database with another clock (e.g. to register an authenticator app in an earlier time step). */
  identityAt(clock: Clock): Identity;
  /** Counts rows of `audit_events` of `type` for `accountId`, whose `data.reason` is `reason` when given. */
  auditCount(type: string, accountId: string, reason?: string): Promise<number>;
  /** Starts `name` again (same ports and environment) after it stopped; resolves once its console listens. */
  restart(name: InstanceName): Promise<Instance>;
  close(): Promise<void>;
}

/** The password every cluster test account gets. */
export const PASSWORD = 'correct horse battery staple';

/**
 * Starts the cluster: a fresh database on the server at `TEST_DATABASE_URL`, the SMTP capture, both proxies,
 * then both instances at once; resolves when both consoles listen.
 * @param extraEnv - added to both instances' environment (and the test process's config).
 */
export async function startCluster(extraEnv: Record<string, string> = {}): Promise<Cluster> {
  const db = await separateProcessDatabase();
  const smtp = await startSmtpCapture();
  const ports = { A: { port: await freePort(), consolePort: await freePort() }, B: { port: await freePort(), consolePort: await freePort() } };
  const proxy = await startRoundRobinProxy([
    { name: 'A', port: ports.A.port },
    { name: 'B', port: ports.B.port },
  ]);
  const consoleProxy = await startRoundRobinProxy([
    { name: 'A', port: ports.A.consolePort },
    { name: 'B', port: ports.B.consolePort },
  ]);
  const env: Record<string, string> = {
    ...db.env,
    ISSUER: proxy.url,
    ADMIN_CONSOLE_URL: consoleProxy.url,
    COOKIE_KEYS: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SMTP_URL: smtp.url,
    SIGNING_KEY_RELOAD_SECONDS: '1',
    OTP_RESEND_INTERVAL_SECONDS: '1',
    // Every request of a test comes from 127.0.0.1: the per-IP limit would answer 429 long before lockout does.
    SIGN_IN_RATE_LIMIT_PER_IP: '100000',
    PASSWORD_HASH_QUEUE_LIMIT: '10000',
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const spawn = async (name: InstanceName): Promise<Instance> => {
    const process = await spawnServer(env, ports[name]);
    return { name, process, url: `http://127.0.0.1:${ports[name].port}`, consoleUrl: `http://127.0.0.1:${ports[name].consolePort}` };
  };
  const instances = { A: await spawn('A'), B: await spawn('B') };
  const listening = await Promise.allSettled([untilListening(instances.A.process, 90_000), untilListening(instances.B.process, 90_000)]);
  const failed = listening.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all([stopServer(instances.A.process, 'SIGKILL'), stopServer(instances.B.process, 'SIGKILL')]);
    throw failed.reason;
  }

  const config: Config = loadConfig({ NODE_ENV: 'test', ...env, LOG_LEVEL: 'silent' });
  const database = await openDatabase({ url: env.DATABASE_URL!, poolSize: 20 });
  const identityAt = (clock: Clock) => wireIdentity(config, database, { mailer: { send: async () => {} }, clock, logger: createLogger('silent') });
  const cluster: Cluster = {
    issuer: proxy.url,
    consoleUrl: consoleProxy.url,
    proxy,
    consoleProxy,
    instances,
    smtp,
    env,
    database,
    identity: identityAt(systemClock),
    clients: createClientStore(database, sealingKeysOf(config)),
    identityAt,
    async auditCount(type, accountId, reason) {
      const result = (await database.db.execute(
        sql`select count(*)::int as n from audit_events where type = ${type} and account_id = ${accountId} and (${reason ?? null}::text is null or data->>'reason' = ${reason ?? null})`,
      )) as unknown as { rows: { n: number }[] };
      return Number(result.rows[0]!.n);
    },
    async restart(name) {
      const instance = await spawn(name);
      await untilListening(instance.process, 90_000);
      instances[name] = instance;
      return instance;
    },
    async close() {
      // CLUSTER_DEBUG=1 prints each instance's warnings and errors (pino level ≥ 40) and stderr, to diagnose a failure.
      if (process.env.CLUSTER_DEBUG) for (const i of Object.values(instances)) console.log(i.name, JSON.stringify(i.process.logs.filter((l) => (l.level ?? 0) >= 40).slice(0, 20)), i.process.stderr());
      await Promise.all(Object.values(instances).map((i) => stopServer(i.process, 'SIGKILL')));
      await database.close();
      await Promise.all([proxy.close(), consoleProxy.close(), smtp.close()]);
      await db.dispose();
    },
  };
  return cluster;
}

/**
 * A user agent whose requests go to one named instance through the proxy while {@link pin} is set (the proxy
 * reads the `x-cluster-instance` header), and round robin otherwise.
 */
export class ClusterAgent extends UserAgent {
  pin: InstanceName | null = null;

  /** Runs `step` with every request pinned to `name`. */
  async on<T>(name: InstanceName, step: () => Promise<T>): Promise<T> {
    const before = this.pin;
    this.pin = name;
    try {
      return await step();
    } finally {
      this.pin = before;
    }
  }

  override request(url: string, init: Parameters<UserAgent['request']>[1] = {}): Promise<Page> {
    return super.request(url, { ...init, headers: { ...init.headers, ...(this.pin ? { [PIN_HEADER]: this.pin } : {}) } });
  }
}

/** An openid-client configuration for `clientId` discovered through the proxy (`instance`: every request of the RP goes to that instance only). */
export async function relyingParty(cluster: Cluster, clientId: string, clientSecret: string, instance?: InstanceName): Promise<client.Configuration> {
  const pinned: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), [PIN_HEADER]: instance! } });
  return client.discovery(new URL(cluster.issuer), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
    ...(instance ? { [client.customFetch]: pinned } : {}),
  });
}

/** Registers a first-party confidential client in the cluster's database; returns it with a relying party through the proxy. */
export async function registerClient(cluster: Cluster, input: { clientId: string; redirectUri: string; postLogoutRedirectUri?: string }) {
  const created = await cluster.clients.create({
    clientId: input.clientId,
    redirectUris: [input.redirectUri],
    postLogoutRedirectUris: input.postLogoutRedirectUri ? [input.postLogoutRedirectUri] : [],
    firstParty: true,
  });
  return { clientId: created.clientId, clientSecret: created.clientSecret!, rp: await relyingParty(cluster, created.clientId, created.clientSecret!) };
}

/** Creates an organization with unique participant IDs. */
export async function createOrganization(cluster: Cluster, name: string): Promise<string> {
  const tag = randomBytes(3).toString('hex').toUpperCase();
  return (await cluster.identity.organizations.createOrganization({ name: `${name} ${tag}`, participantIds: [`B${tag}`] }, 'test')).id;
}

/** Creates an active account in `organization`, with {@link PASSWORD} unless `withPassword` is false (faster: no argon2). */
export async function createAccount(cluster: Cluster, organization: string, userId: string, options: { delegatedAdministrator?: boolean; withPassword?: boolean } = {}) {
  const email = `${userId}@example.com`;
  const { account } = await cluster.identity.accounts.createAccount(
    {
      organization,
      userId,
      name: `Test ${userId}`,
      email,
      phone: '+852 5555 0000',
      functions: ['EU_UserMaintenance'],
      delegatedAdministrator: options.delegatedAdministrator ?? false,
      ...(options.withPassword === false ? {} : { password: PASSWORD }),
    },
    'test',
  );
  return { id: account.id, userId, email };
}

/**
 * Signs `user` in to the admin console through the console proxy (and the IdP through its proxy), the way a
 * browser does: console → IdP sign-in page → password → emailed code → console callback. Returns the page the
 * console shows afterwards.
 * @throws when a step does not show the expected page.
 */
export async function signInToConsole(cluster: Cluster, ua: ClusterAgent, user: { userId: string; email: string }): Promise<Page> {
  const signInPage = await ua.follow(`${cluster.consoleUrl}/`);
  if (!signInPage.html.includes('User ID or email')) throw new Error(`the console did not send ${user.userId} to the sign-in page (status ${signInPage.status})`);
  const since = cluster.smtp.messages.length;
  const codePage = await ua.submit(signInPage, { 'User ID or email': user.userId, Password: PASSWORD });
  const mail = await cluster.smtp.waitFor(user.email, { since, timeoutMs: 20_000 });
  const home = await ua.submit(codePage, { 'One-time code': /\b(\d{6})\b/.exec(mail.text)![1]! });
  if (home.status !== 200 || !home.url.startsWith(cluster.consoleUrl)) throw new Error(`console sign-in of ${user.userId} ended at ${home.url} with ${home.status}`);
  return home;
}
