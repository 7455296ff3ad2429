/**
 * `npm run bench`: measures every hot path of connect-iam against its baseline in one run, on PGlite and on a
 * PostgreSQL server, in interleaved rounds, and writes `bench/results/latest.md` and `latest.json`.
 * How to run it and read it: bench/README.md.
 *
 * Options: `--rounds N` (5), `--seconds S` per batch (3), `--only row,row` (argon2, signin, password, refresh,
 * userinfo, jwks, discovery, portal), `--db pglite|postgres|both` (both; with both, an unreachable PostgreSQL is
 * skipped and said so), `--quick` (1 round of 0.5 s batches: a smoke run), `--out DIR` (bench/results).
 * The PostgreSQL server is `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`); a fresh
 * database is made on it and dropped afterwards.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { hash } from '@node-rs/argon2';
import { Command, Option } from 'commander';
import pg from 'pg';
import { ARGON2_OPTIONS } from '../identity/index.js';
import { startSmtpCapture } from '../test/support/smtp-capture.js';
import { compileForBench, removeCompiled } from './build.js';
import { freePort, ROOT, runtime, startChild, type Child } from './children.js';
import { relyingParty, signIn, signInAtBaseline } from './flows.js';
import { BENCH_PASSWORD, REDIRECT_URI, startIdp, type DatabaseKind } from './idp.js';
import { failedMeasurement, measure, type Measurement } from './measure.js';
import type { BatchLength } from './load.js';
import { cpuMeter, cpuModel, loadAverage, memoryOf } from './proc.js';
import { evaluateTargets, fmt, medianOf, renderMarkdown, writeResults, type MemoryResult, type Results, type RowResult } from './report.js';
import { buildRows, PORTAL_API, ROW_IDS, type BaselineSubject, type IdpSubject, type RowId, type Variant, type World } from './scenarios.js';

const program = new Command('bench')
  .option('--rounds <n>', 'interleaved rounds', (v) => Number.parseInt(v, 10))
  .option('--seconds <s>', 'length of each batch, seconds', Number.parseFloat)
  .option('--only <rows>', `rows to run, comma-separated: ${ROW_IDS.join(', ')}`, (v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .addOption(new Option('--db <which>', 'database(s) of connect-iam').choices(['pglite', 'postgres', 'both']).default('both'))
  .option('--quick', 'smoke run: 1 round of 0.5 s batches')
  .option('--concurrency <n>', 'load workers', (v) => Number.parseInt(v, 10), 4)
  .option('--out <dir>', 'where to write latest.md and latest.json', path.join(ROOT, 'bench/results'))
  .addOption(new Option('--runtime <how>', 'run the processes compiled (as `node dist/server/main.js`) or from sources under tsx').choices(['compiled', 'tsx']).default('compiled'))
  .parse();
const opts = program.opts<{ rounds?: number; seconds?: number; only?: string[]; db: 'pglite' | 'postgres' | 'both'; quick?: boolean; concurrency: number; out: string; runtime: 'compiled' | 'tsx' }>();
const unknown = (opts.only ?? []).filter((r) => !(ROW_IDS as readonly string[]).includes(r));
if (unknown.length) program.error(`unknown row(s): ${unknown.join(', ')}; rows are ${ROW_IDS.join(', ')}`);
const only = (opts.only ?? []) as RowId[];
const rounds = opts.rounds ?? (opts.quick ? 1 : 5);
const seconds = opts.seconds ?? (opts.quick ? 0.5 : 3);
const passwordCount = opts.quick ? 4 : 32;
/**
 * Idle time before the RSS readings after start-up and after the run: a first reading after `earlyMs` (start-up
 * garbage and V8's start-up young generation still there), the idle figure the targets use after `settleMs`,
 * once V8's memory reducer has run (it shrinks the heap about 10–20 s after the last busy period), as a server
 * idling between requests for longer than that holds.
 */
const earlyMs = opts.quick ? 500 : 5000;
const settleMs = opts.quick ? 500 : 30_000;
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const wants = (row: RowId) => only.length === 0 || only.includes(row);
const notes: string[] = [];
const log = (line: string) => console.log(`[bench] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The last warning- and error-level lines (pino level ≥ 40) of a server's output, then its last lines: a failed
 * batch's cause is often a warning among info lines (e.g. `refresh token reuse: grant revoked` before a run of
 * `refresh token not found`).
 */
function errorLines(output: string): string {
  const lines = output.split('\n').filter(Boolean);
  const notable = lines.filter((l) => /"level":(4|5|6)\d/.test(l)).slice(-5);
  const last = lines.slice(-3).filter((l) => !notable.includes(l));
  return [...notable, ...(notable.length && last.length ? ['…'] : []), ...last].map((l) => l.slice(0, 1500)).join('\n');
}

/** Whether the PostgreSQL server answers, with its version. */
async function postgresVersion(): Promise<string | null> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return ((await client.query('select version() as v')).rows[0] as { v: string }).v;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const needsIdp = ROW_IDS.some((r) => r !== 'argon2' && wants(r));
const needsBaseline = (['refresh', 'userinfo', 'jwks', 'discovery'] as const).some(wants);
const needsTokens = (['refresh', 'userinfo', 'portal'] as const).some(wants);
const kinds: DatabaseKind[] = [];
let postgres: string | null = null;
if (needsIdp && opts.db !== 'postgres') kinds.push('pglite');
if (needsIdp && opts.db !== 'pglite') {
  postgres = await postgresVersion();
  if (postgres) kinds.push('postgres');
  else if (opts.db === 'postgres') program.error(`PostgreSQL at ${adminUrl} cannot be reached (set BENCH_DATABASE_URL)`);
  else notes.push(`The PostgreSQL column is missing: ${adminUrl} could not be reached.`);
}

const loadAtStart = loadAverage();
if (opts.runtime === 'compiled' && (needsIdp || needsBaseline)) {
  log('compiling the server, the baseline and the bench portal (tsc --noCheck)');
  runtime.compiled = await compileForBench(ROOT);
}
const smtp = await startSmtpCapture();
const portalPort = await freePort();
const portalOrigin = `http://127.0.0.1:${portalPort}`;
const started: { stop(): Promise<void> }[] = [];
const memory: Record<string, MemoryResult> = {};
const rowResults: RowResult[] = [];
let pgliteServer = 'not run';

/** Setup sign-ins: one refresh token per worker, for the refresh, userinfo and portal rows. */
const SETUP_AUTHORIZATION = { scope: 'openid profile email organization offline_access', prompt: 'consent', resource: PORTAL_API };

// Ctrl-C or SIGTERM: stop the children and drop the bench database before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void Promise.all(started.map((s) => s.stop().catch(() => undefined))).finally(() => {
      if (runtime.compiled) removeCompiled(runtime.compiled);
      process.exit(130);
    });
  });
}

try {
  log(`starting ${[...kinds.map((k) => `connect-iam on ${k}`), ...(needsBaseline ? ['bare oidc-provider'] : [])].join(', ') || 'nothing but argon2'}`);
  const baselineSecret = 'bench-baseline-client-secret-of-32-characters';
  const [idps, baselineChild] = await Promise.all([
    Promise.all(kinds.map((kind) => startIdp(kind, { smtpUrl: smtp.url, adminUrl, portalOrigin }).then((idp) => (started.push(idp), idp)))),
    needsBaseline
      ? freePort().then((port) =>
          startChild('bare oidc-provider', 'bench/baseline-provider.ts', { PORT: String(port), CLIENT_ID: 'bench-rp', CLIENT_SECRET: baselineSecret, REDIRECT_URI }, (l) => l.includes('"ready":true'), 60_000).then((c) => (started.push(c), { child: c, port })),
        )
      : Promise.resolve(undefined),
  ]);
  const idleOf = (pid: number) => memoryOf(pid)?.rssMiB ?? null;
  await sleep(earlyMs);
  const early = new Map<number, number | null>([...idps.map((idp) => idp.child.pid), ...(baselineChild ? [baselineChild.child.pid] : [])].map((pid) => [pid, idleOf(pid)]));
  await sleep(settleMs - earlyMs);
  for (const idp of idps) {
    memory[idp.kind] = { startSeconds: idp.startSeconds, startPeakMiB: idp.startPeakMiB, startHwmMiB: idp.startHwmMiB, earlyIdleMiB: early.get(idp.child.pid) ?? null, idleMiB: idleOf(idp.child.pid), signInLoadPeakMiB: null, idleAfterMiB: null };
  }
  if (baselineChild) {
    const { child } = baselineChild;
    memory.bare = { startSeconds: child.startSeconds, startPeakMiB: child.startPeakMiB, startHwmMiB: memoryOf(child.pid)?.hwmMiB ?? null, earlyIdleMiB: early.get(child.pid) ?? null, idleMiB: idleOf(child.pid), signInLoadPeakMiB: null, idleAfterMiB: null };
  }
  pgliteServer = idps.find((i) => i.kind === 'pglite')?.databaseVersion ?? pgliteServer;

  const subjects: IdpSubject[] = [];
  for (const idp of idps) {
    const rp = await relyingParty(idp.issuer, idp.client.clientId, idp.client.clientSecret);
    const refreshTokens: string[] = [];
    if (needsTokens) {
      for (const account of idp.accounts) {
        const { tokens } = await signIn(rp, account, smtp, SETUP_AUTHORIZATION);
        if (!tokens.refresh_token) throw new Error(`connect-iam (${idp.kind}) issued no refresh token`);
        refreshTokens.push(tokens.refresh_token);
      }
    }
    subjects.push({ kind: idp.kind, pid: idp.child.pid, cpuMs: cpuMeter(idp.child.pid), wire: idp.wire, output: idp.child.output, rp, accounts: idp.accounts, refreshTokens });
  }
  let baseline: BaselineSubject | undefined;
  if (baselineChild) {
    const rp = await relyingParty(`http://127.0.0.1:${baselineChild.port}`, 'bench-rp', baselineSecret);
    const refreshTokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { resource: _noResourceServer, ...authorization } = SETUP_AUTHORIZATION;
      const tokens = await signInAtBaseline(rp, authorization);
      if (!tokens.refresh_token) throw new Error('the bare provider issued no refresh token');
      refreshTokens.push(tokens.refresh_token);
    }
    baseline = { pid: baselineChild.child.pid, cpuMs: cpuMeter(baselineChild.child.pid), rp, refreshTokens };
  }
  let portal: World['portal'];
  if (wants('portal') && subjects[0]) {
    const idp = idps[0]!;
    const child: Child = await startChild('bench portal', 'bench/portal-app.ts', { PORT: String(portalPort), ISSUER: idp.issuer, CLIENT_ID: idp.portalClient.clientId, CLIENT_SECRET: idp.portalClient.clientSecret }, (l) => l.includes('"ready":true'), 60_000);
    started.push(child);
    portal = { subject: { pid: child.pid, cpuMs: cpuMeter(child.pid) }, url: portalOrigin, idp: subjects[0] };
  }
  const argon2 = { hash: await hash(BENCH_PASSWORD, ARGON2_OPTIONS), password: BENCH_PASSWORD, subject: { cpuMs: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } } };
  const world: World = { smtp, idps: subjects, baseline, portal, argon2, passwordCount };
  const rows = buildRows(world, only);

  const batchLength = (row: RowId, secondsEach: number) => (row === 'password' ? { count: passwordCount } : { durationMs: secondsEach * 1000 });
  const collected = new Map<string, Measurement[]>();
  /** A batch whose preparation failed counts as a batch without operations (the run goes on; the error is reported). */
  const attempt = (v: Variant, length: BatchLength): Promise<Measurement> =>
    measure(v, length, opts.concurrency).catch((error: unknown) => {
      log(`${v.label}: ${error instanceof Error ? error.message : String(error)}`);
      return failedMeasurement(error);
    });
  log(`warming up (${rows.map((r) => r.id).join(', ')})`);
  for (const row of rows) for (const v of row.variants) await attempt(v, row.id === 'password' ? { count: 4 } : { durationMs: Math.min(1000, seconds * 500) });

  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      // Interleaved: each row's variants run back to back, in an order that rotates from round to round.
      const order = row.variants.map((_, i) => row.variants[(i + round) % row.variants.length]!);
      for (const v of order) {
        const m = await attempt(v, batchLength(row.id, seconds));
        collected.set(`${row.id}/${v.id}`, [...(collected.get(`${row.id}/${v.id}`) ?? []), m]);
        if (m.errors && v.subject.output) log(`${v.label} logged:\n${errorLines(v.subject.output())}`);
        log(`round ${round + 1}/${rounds} ${row.id} ${v.id}: ${fmt(m.cpuMsPerOp)} CPU-ms/op${m.dbCpuMsPerOp !== null ? ` + ${fmt(m.dbCpuMsPerOp)} db` : ''}${m.roundTripsPerOp !== null ? `, ${fmt(m.roundTripsPerOp)} round trips` : ''}, ${fmt(m.opsPerSecond)}/s, p50 ${fmt(m.p50Ms)} ms, p99 ${fmt(m.p99Ms)} ms${m.errors ? `, ${m.errors} errors (${m.firstError})` : ''}`);
      }
    }
  }
  for (const row of rows) {
    const variants: RowResult['variants'] = {};
    for (const v of row.variants) {
      const measured = collected.get(`${row.id}/${v.id}`) ?? [];
      variants[v.id] = { id: v.id, label: v.label, rounds: measured, median: medianOf(measured) };
    }
    rowResults.push({ id: row.id, title: row.title, variants });
  }
  const peak = (key: string) => Math.max(...(collected.get(key) ?? []).map((m) => m.rssPeakMiB ?? 0)) || null;
  for (const idp of idps) memory[idp.kind]!.signInLoadPeakMiB = peak(`signin/${idp.kind}`);
  if (memory.bare) memory.bare.signInLoadPeakMiB = Math.max(0, ...[...collected].filter(([k]) => k.endsWith('/bare')).flatMap(([, ms]) => ms.map((m) => m.rssPeakMiB ?? 0))) || null;
  await sleep(settleMs);
  for (const idp of idps) memory[idp.kind]!.idleAfterMiB = memoryOf(idp.child.pid)?.rssMiB ?? null;
  if (memory.bare && baselineChild) memory.bare.idleAfterMiB = memoryOf(baselineChild.child.pid)?.rssMiB ?? null;
} finally {
  await Promise.all(started.map((s) => s.stop().catch((error: unknown) => log(`stopping failed: ${String(error)}`))));
  await smtp.close();
  if (runtime.compiled) removeCompiled(runtime.compiled);
}

const versionOf = (name: string) => (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
notes.push(
  `This machine has ${availableParallelism()} cores, shared with other work that ran meanwhile (other sessions' tests): CPU-ms per operation is the robust figure; throughput and latency also depend on what else ran, and the load generator, SMTP capture and wire counter share the same cores.`,
  'Database round trips and database CPU are measured on the PostgreSQL server only, on the wire (a counting proxy between the server and PostgreSQL; `pg_stat_statements` is not preloaded on this server). PGlite runs inside the server process: its CPU is part of the server figure, and it has no wire to count (n/a); the queries are the same code\'s.',
  `The server runs as ${runtime.compiled ? '`node server/main.js` compiled by tsc (as `npm run start:dist` runs `dist/`)' : '`node --import tsx server/main.ts` (tsx\'s loader and transpiled sources add to its memory)'}, with NODE_ENV=test, LOG_LEVEL=info (logs read from a pipe), the demo off and the default limits; its IdP, admin console and mail outbox worker are all in the measured process. The baseline and the bench portal run the same way.`,
);
/** The commit measured, and the files outside test/ that differed from it (other work in progress is measured too). */
function sourceState(): { commit: string; uncommitted: string[] } {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
    const changed = git('status', '--porcelain', '--untracked-files=no').split('\n').filter(Boolean).map((line) => line.slice(3));
    return { commit: git('rev-parse', '--short', 'HEAD').trim(), uncommitted: changed.filter((file) => !file.startsWith('test/') && !file.startsWith('bench/results/')) };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}
const source = sourceState();
const results: Results = {
  meta: {
    date: new Date().toISOString(),
    commit: source.commit,
    uncommittedFiles: source.uncommitted,
    node: process.version,
    openssl: process.versions.openssl,
    oidcProvider: versionOf('oidc-provider'),
    postgres: postgres ?? 'not run',
    pglite: versionOf('@electric-sql/pglite'),
    pgliteServer,
    cpu: cpuModel(),
    cores: availableParallelism(),
    loadAtStart: loadAtStart.join(' '),
    loadAtEnd: loadAverage().join(' '),
    rounds,
    seconds,
    passwordCount,
    concurrency: opts.concurrency,
    only: only.length ? only : 'all',
    db: opts.db,
    runtime: opts.runtime,
    notes,
  },
  rows: rowResults,
  memory,
  targets: [],
};
results.targets = evaluateTargets(results);
const written = await writeResults(opts.out, results);
console.log(renderMarkdown(results));
log(`wrote ${written.markdown} and ${written.json}`);
process.exit(rowResults.some((r) => Object.values(r.variants).some((v) => v.median.ops === 0)) ? 1 : 0);
