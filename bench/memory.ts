/**
 * Memory of the real server (`tsx server/main.ts`, as `npm start` runs it: IdP, admin console, demo data and
 * demo portals) in embedded mode (PGlite under a fresh temporary DATA_DIR) and, for comparison, on a fresh
 * database of a PostgreSQL server (`DATABASE_URL`).
 *
 * For each mode it samples the resident memory (`/proc/<pid>/status` VmRSS, summed over the server's process
 * tree: tsx's launcher, the server, and any child it starts) every 100 ms and reports, in MB (MiB):
 * - first start: peak while starting on an empty folder/database, and idle 5 s after it is ready;
 * - restart: the same after SIGTERM and a start on the same folder/database;
 * - load: peak while serving `LOAD` sign-in attempts (discovery, JWKS, the admin console's login redirect to the
 *   IdP's sign-in page, a wrong password for an unknown user), 4 at a time, and idle after it.
 * `server HWM` is the server process's own VmHWM (its peak RSS since it started, without its children).
 *
 * Run: `npx tsx bench/memory.ts [load=200]`. Needs nothing else for embedded mode; the PostgreSQL column
 * needs a server at BENCH_DATABASE_URL (default `postgres://postgres@127.0.0.1:5432/postgres`) and is skipped
 * when it cannot be reached.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../test/support/ports.js';
import { UserAgent } from '../test/support/user-agent.js';
import { memoryOf, processTree } from './proc.js';

const LOAD = Number(process.argv[2] ?? 200);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 2 ** 20;


/**
 * Samples the process tree of `root` (tsx's launcher) every 100 ms; `mark()` starts a new phase, `end()`
 * returns its peak. The server is the launcher's child; processes below it (initdb) count in the tree only.
 */
class Sampler {
  private peak = 0;
  private serverHwm = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly root: number) {
    this.timer = setInterval(() => this.sample(), 100);
  }
  /** Current RSS of the tree and the server process's VmHWM, in bytes. */
  sample(): { rss: number; serverHwm: number } {
    const tree = processTree(this.root);
    let rss = 0;
    for (const pid of tree) rss += (memoryOf(pid)?.rssMiB ?? 0) * MiB;
    const server = tree[1] === undefined ? null : memoryOf(tree[1]);
    this.peak = Math.max(this.peak, rss);
    this.serverHwm = Math.max(this.serverHwm, (server?.hwmMiB ?? 0) * MiB);
    return { rss, serverHwm: this.serverHwm };
  }
  mark(): void {
    this.peak = 0;
  }
  end(): { peak: number; serverHwm: number } {
    this.sample();
    return { peak: this.peak, serverHwm: this.serverHwm };
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

interface Ports {
  idp: number;
  console: number;
  eservice: number;
  ecp: number;
}

/** Starts `tsx server/main.ts` and resolves once it logged that it is ready (`sign in at …`). */
async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; sampler: Sampler; startPeak: number; serverHwm: number; seconds: number; output: () => string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'server/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const sampler = new Sampler(child.pid!);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`server not ready after 180 s:\n${output.slice(-2000)}`)), 180_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('sign in at')) {
        clearTimeout(timeout);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timeout);
      reject(new Error(`server exited with ${code} while starting:\n${output.slice(-2000)}`));
    });
  });
  const { peak, serverHwm } = sampler.end();
  return { child, sampler, startPeak: peak, serverHwm, seconds: (performance.now() - started) / 1000, output: () => output };
}

/** SIGTERM, then waits for the exit. */
async function stopServer(child: ChildProcess, sampler: Sampler): Promise<void> {
  sampler.stop();
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** RSS of the tree after `seconds` of idling. */
async function idle(sampler: Sampler, seconds = 5): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return sampler.sample().rss;
}

/** `count` sign-in attempts, 4 at a time: discovery, JWKS, the console's login → IdP sign-in page → wrong password. */
async function load(ports: Ports, count: number): Promise<{ seconds: number; statuses: Record<number, number> }> {
  const issuer = `http://localhost:${ports.idp}`;
  const statuses: Record<number, number> = {};
  const count1 = (status: number) => (statuses[status] = (statuses[status] ?? 0) + 1);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const n = next++;
        const ua = new UserAgent();
        count1((await ua.request(`${issuer}/.well-known/openid-configuration`, { headers: { accept: 'application/json' } })).status);
        count1((await ua.request(`${issuer}/jwks`, { headers: { accept: 'application/json' } })).status);
        const signInPage = await ua.follow(`http://localhost:${ports.console}/auth/login`);
        count1(signInPage.status);
        if (signInPage.status !== 200) continue;
        count1((await ua.submit(signInPage, { 'User ID or email': `nobody.${n}@example.com`, Password: 'not the password 1234' })).status);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, statuses };
}

interface Result {
  firstStartPeak: number;
  firstStartHwm: number;
  firstStartSeconds: number;
  idleAfterFirst: number;
  restartPeak: number;
  restartHwm: number;
  idleAfterRestart: number;
  loadPeak: number;
  loadHwm: number;
  idleAfterLoad: number;
  loadPerSecond: number;
  statuses: Record<number, number>;
}

/** First start, idle, restart, idle, load, idle: one mode (embedded when `databaseUrl` is unset). */
async function measure(databaseUrl?: string): Promise<Result> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'connect-iam-bench-memory-'));
  const ports: Ports = { idp: await freePort(), console: await freePort(), eservice: await freePort(), ecp: await freePort() };
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    ISSUER: `http://localhost:${ports.idp}`,
    PORT: String(ports.idp),
    ADMIN_CONSOLE_PORT: String(ports.console),
    ESERVICE_PORTAL_PORT: String(ports.eservice),
    ECP_PORT: String(ports.ecp),
    LOG_LEVEL: 'info',
    SIGN_IN_RATE_LIMIT_PER_IP: '1000000',
    PASSWORD_HASH_QUEUE_LIMIT: '1000000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  let running: { child: ChildProcess; sampler: Sampler } | undefined;
  try {
    const first = (running = await startServer(env));
    const idleAfterFirst = await idle(first.sampler);
    await stopServer(first.child, first.sampler);
    const second = (running = await startServer(env));
    const idleAfterRestart = await idle(second.sampler);
    second.sampler.mark();
    const ran = await load(ports, LOAD).catch((error: unknown) => {
      throw new Error(`load failed; server said:\n${second.output().slice(-3000)}`, { cause: error });
    });
    const loaded = second.sampler.end();
    const idleAfterLoad = await idle(second.sampler);
    await stopServer(second.child, second.sampler);
    return {
      firstStartPeak: first.startPeak,
      firstStartHwm: first.serverHwm,
      firstStartSeconds: first.seconds,
      idleAfterFirst,
      restartPeak: second.startPeak,
      restartHwm: second.serverHwm,
      idleAfterRestart,
      loadPeak: loaded.peak,
      loadHwm: loaded.serverHwm,
      idleAfterLoad,
      loadPerSecond: LOAD / ran.seconds,
      statuses: ran.statuses,
    };
  } finally {
    if (running) await stopServer(running.child, running.sampler);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A fresh database on the server at ADMIN_URL, dropped by the returned function; null when unreachable. */
async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const name = `connect_iam_bench_memory_${process.pid}`;
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.query(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

const mb = (bytes: number) => (bytes / MiB).toFixed(0);
const results: Array<[string, Result]> = [['embedded (PGlite)', await measure()]];
const server = await freshPostgresDatabase();
if (server) {
  try {
    results.push(['PostgreSQL server', await measure(server.url)]);
  } finally {
    await server.drop();
  }
} else {
  console.log(`(PostgreSQL column skipped: ${ADMIN_URL} unreachable)`);
}

const rows: Array<[string, (r: Result) => string]> = [
  ['first start: peak RSS (tree)', (r) => mb(r.firstStartPeak)],
  ['first start: server HWM', (r) => mb(r.firstStartHwm)],
  ['first start: seconds to ready', (r) => r.firstStartSeconds.toFixed(1)],
  ['idle after first start', (r) => mb(r.idleAfterFirst)],
  ['restart: peak RSS (tree)', (r) => mb(r.restartPeak)],
  ['restart: server HWM', (r) => mb(r.restartHwm)],
  ['idle after restart', (r) => mb(r.idleAfterRestart)],
  [`load (${LOAD} sign-in attempts): peak RSS`, (r) => mb(r.loadPeak)],
  ['load: server HWM', (r) => mb(r.loadHwm)],
  ['idle after load', (r) => mb(r.idleAfterLoad)],
  ['load: attempts per second', (r) => r.loadPerSecond.toFixed(1)],
];
const width = Math.max(...rows.map(([label]) => label.length));
console.log(`\nMemory in MB (MiB), RSS summed over the server's process tree (tsx launcher + server + children)\n`);
console.log(`${''.padEnd(width)} | ${results.map(([name]) => name.padStart(18)).join(' | ')}`);
for (const [label, value] of rows) console.log(`${label.padEnd(width)} | ${results.map(([, r]) => value(r).padStart(18)).join(' | ')}`);
console.log(`\nHTTP statuses under load: ${results.map(([name, r]) => `${name} ${JSON.stringify(r.statuses)}`).join('; ')}`);
