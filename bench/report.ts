/**
 * Medians of the rounds, issue 10's table with our figures beside the baselines and the ratios, the targets
 * (met, or missed by how much), and the two files: `latest.json` (everything, every round) and `latest.md`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Measurement } from './measure.js';
import type { RowId } from './scenarios.js';

/** The rounds of one variant and their medians. */
export interface VariantResult {
  id: string;
  label: string;
  rounds: Measurement[];
  median: Measurement;
}

/** One row of the table. */
export interface RowResult {
  id: RowId;
  title: string;
  variants: Record<string, VariantResult>;
}

/**
 * Memory of one process, MiB: peak while starting on an empty database (its process tree, so an initdb child
 * counts) and its own VmHWM when ready, RSS 5 s after ready (`earlyIdleMiB`), idle before load (30 s after
 * ready: the targets' figure), peak under sign-in load (its batches' peak for the baseline), idle after the run
 * (30 s after it).
 */
export interface MemoryResult {
  startSeconds: number | null;
  startPeakMiB: number | null;
  startHwmMiB: number | null;
  earlyIdleMiB?: number | null;
  idleMiB: number | null;
  signInLoadPeakMiB: number | null;
  idleAfterMiB: number | null;
}

/** A target of issue 10 §2 and how the run did against it. */
export interface TargetResult {
  measure: string;
  target: string;
  value: number | null;
  unit: string;
  met: boolean | null;
  /** How far off a missed target is, in words (null when met or not measured). */
  missedBy: string | null;
  /**
   * For a ratio to a baseline measured in the same rounds: the median of the per-round ratios (each round runs
   * ours and the baseline back to back, so a round's ratio sees one level of other load on the machine) and
   * their range. `value` (and `met`) stay the ratio of the medians; the two agree when the load was steady.
   */
  perRound?: { median: number; min: number; max: number } | null;
}

/** What a run writes. */
export interface Results {
  meta: Record<string, unknown>;
  rows: RowResult[];
  memory: Record<string, MemoryResult>;
  targets: TargetResult[];
}

/** Median of the finite numbers in `values`; NaN when there are none. */
export function median(values: (number | null | undefined)[]): number {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/** The per-figure medians of `rounds` (ops and errors are summed). */
export function medianOf(rounds: Measurement[]): Measurement {
  const pick = (key: keyof Measurement) => median(rounds.map((r) => r[key] as number | null));
  const nullable = (key: keyof Measurement) => (rounds.every((r) => r[key] === null) ? null : pick(key));
  const firstError = rounds.find((r) => r.firstError)?.firstError;
  return {
    ops: rounds.reduce((s, r) => s + r.ops, 0),
    errors: rounds.reduce((s, r) => s + r.errors, 0),
    ...(firstError ? { firstError } : {}),
    opsPerSecond: pick('opsPerSecond'),
    p50Ms: pick('p50Ms'),
    p99Ms: pick('p99Ms'),
    cpuMsPerOp: pick('cpuMsPerOp'),
    dbCpuMsPerOp: nullable('dbCpuMsPerOp'),
    roundTripsPerOp: nullable('roundTripsPerOp'),
    parsesPerOp: nullable('parsesPerOp'),
    connectionsOpened: nullable('connectionsOpened'),
    requestsPerOp: nullable('requestsPerOp'),
    rssPeakMiB: nullable('rssPeakMiB'),
  };
}

/** A figure with 3 significant digits or so; `—` for missing. */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : abs >= 1 ? value.toFixed(2) : value.toFixed(3);
}

/** CPU of a variant, with its database's CPU added when measured (the figure the targets use). */
export function totalCpu(m: Measurement | undefined): number | null {
  if (!m) return null;
  return m.cpuMsPerOp + (m.dbCpuMsPerOp ?? 0);
}

function variant(results: Results, row: RowId, id: string): Measurement | undefined {
  return results.rows.find((r) => r.id === row)?.variants[id]?.median;
}

/**
 * The ratio `figure(ours) / figure(base)` of each round (round i of one variant ran right next to round i of
 * the other), their median and range; null when fewer than one round of each has both figures.
 */
export function perRoundRatios(results: Results, row: RowId, ours: string, base: string, figure: (m: Measurement) => number | null): TargetResult['perRound'] {
  const variants = results.rows.find((r) => r.id === row)?.variants;
  const a = variants?.[ours]?.rounds ?? [];
  const b = variants?.[base]?.rounds ?? [];
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const r = ratio(a[i]!.ops > 0 ? figure(a[i]!) : null, b[i]!.ops > 0 ? figure(b[i]!) : null);
    if (r !== null) ratios.push(r);
  }
  if (ratios.length === 0) return null;
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

const ratio = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);

function atMost(measure: string, value: number | null, limit: number, unit: string, perRound?: TargetResult['perRound']): TargetResult {
  const target = `≤ ${limit}${unit === '×' ? '×' : ` ${unit}`}`;
  const extra = perRound === undefined ? {} : { perRound };
  if (value === null || !Number.isFinite(value)) return { measure, target, value: null, unit, met: null, missedBy: null, ...extra };
  const met = value <= limit;
  const over = unit === '×' ? `${fmt(value / limit)}× the target` : `${fmt(value - limit)} ${unit} over (${fmt(value / limit)}× the target)`;
  return { measure, target, value, unit, met, missedBy: met ? null : over, ...extra };
}

function atLeast(measure: string, value: number | null, limit: number, unit: string, perRound?: TargetResult['perRound']): TargetResult {
  const target = `≥ ${limit}${unit === '×' ? '×' : ` ${unit}`}`;
  const extra = perRound === undefined ? {} : { perRound };
  if (value === null || !Number.isFinite(value)) return { measure, target, value: null, unit, met: null, missedBy: null, ...extra };
  const met = value >= limit;
  const short = unit === '×' ? `${fmt(value / limit)}× the target` : `${fmt(limit - value)} ${unit} short (${fmt(value / limit)}× the target)`;
  return { measure, target, value, unit, met, missedBy: met ? null : short, ...extra };
}

/** Issue 10 §2: the targets on the PostgreSQL server (database CPU included), and the two on PGlite. */
export function evaluateTargets(results: Results): TargetResult[] {
  const pg = (row: RowId) => variant(results, row, 'postgres');
  const argon2 = variant(results, 'argon2', 'argon2')?.cpuMsPerOp ?? null;
  const signIn = totalCpu(pg('signin'));
  const bare = (row: RowId) => variant(results, row, 'bare')?.cpuMsPerOp ?? null;
  const memory = results.memory;
  // totalCpu of the baseline is its CPU alone (it has no database).
  const perRound = (row: RowId) => perRoundRatios(results, row, 'postgres', 'bare', totalCpu);
  return [
    atMost('full sign-in, CPU-ms (server + database)', signIn, 20, 'CPU-ms'),
    atMost('full sign-in ÷ one argon2 verify (goal)', ratio(signIn, argon2), 1.25, '×'),
    atMost('database round trips per sign-in', pg('signin')?.roundTripsPerOp ?? null, 20, 'round trips'),
    atMost('round trips per refresh', pg('refresh')?.roundTripsPerOp ?? null, 4, 'round trips'),
    atMost('round trips per userinfo', pg('userinfo')?.roundTripsPerOp ?? null, 2, 'round trips'),
    atMost('refresh vs bare oidc-provider (CPU)', ratio(totalCpu(pg('refresh')), bare('refresh')), 2, '×', perRound('refresh')),
    atMost('userinfo vs bare oidc-provider (CPU)', ratio(totalCpu(pg('userinfo')), bare('userinfo')), 3, '×', perRound('userinfo')),
    atMost('JWKS vs bare oidc-provider (CPU)', ratio(totalCpu(pg('jwks')), bare('jwks')), 1.3, '×', perRound('jwks')),
    atMost('discovery vs bare oidc-provider (CPU)', ratio(totalCpu(pg('discovery')), bare('discovery')), 1.3, '×', perRound('discovery')),
    atLeast('portal API throughput ÷ plain route', ratio(variant(results, 'portal', 'api')?.opsPerSecond, variant(results, 'portal', 'plain')?.opsPerSecond), 0.6, '×', perRoundRatios(results, 'portal', 'api', 'plain', (m) => m.opsPerSecond)),
    atMost('idle RSS (PostgreSQL server)', memory.postgres?.idleMiB ?? null, 125, 'MiB'),
    atMost('RSS under sign-in load (PostgreSQL server)', memory.postgres?.signInLoadPeakMiB ?? null, 250, 'MiB'),
    atMost('PGlite sign-in ÷ PostgreSQL sign-in (CPU)', ratio(variant(results, 'signin', 'pglite')?.cpuMsPerOp, signIn), 2, '×'),
    atMost('idle RSS (PGlite)', memory.pglite?.idleMiB ?? null, 250, 'MiB'),
  ];
}

/** One cell of the summary: CPU-ms per operation, with database CPU and round trips when measured. */
function cell(m: Measurement | undefined): string {
  if (!m) return '—';
  const db = m.dbCpuMsPerOp !== null ? ` + ${fmt(m.dbCpuMsPerOp)} in the database` : '';
  const trips = m.roundTripsPerOp !== null ? `, ${fmt(m.roundTripsPerOp)} round trips` : '';
  return `${fmt(m.cpuMsPerOp)}${db}${trips}`;
}

function ratioCell(ours: Measurement | undefined, baseline: number | null | undefined): string {
  const r = ratio(totalCpu(ours), baseline);
  return r === null ? '—' : `${fmt(r)}×`;
}

/** The issue's table with this run's medians. */
function summaryTable(results: Results): string[] {
  const v = (row: RowId, id: string) => variant(results, row, id);
  const argon2 = v('argon2', 'argon2')?.cpuMsPerOp;
  const lines = [
    '| path | embedded (PGlite) | PostgreSQL server | baseline in the same run | ratio PGlite / PostgreSQL |',
    '|---|---|---|---|---|',
    `| argon2id verify (m=19 MiB, t=2, p=1) | ${fmt(argon2)} CPU-ms | — | — | — |`,
  ];
  for (const [row, title] of [['signin', 'full sign-in (7 requests)'], ['password', 'password POST (and its emailed code)']] as const) {
    if (!results.rows.some((r) => r.id === row)) continue;
    lines.push(`| ${title} | ${cell(v(row, 'pglite'))} | ${cell(v(row, 'postgres'))} | ${fmt(argon2)} (argon2) | ${ratioCell(v(row, 'pglite'), argon2)} / ${ratioCell(v(row, 'postgres'), argon2)} |`);
  }
  for (const [row, title] of [['refresh', 'refresh-token grant'], ['userinfo', 'userinfo'], ['jwks', 'JWKS'], ['discovery', 'discovery']] as const) {
    if (!results.rows.some((r) => r.id === row)) continue;
    const bare = v(row, 'bare')?.cpuMsPerOp;
    lines.push(`| ${title} | ${cell(v(row, 'pglite'))} | ${cell(v(row, 'postgres'))} | bare oidc-provider, in memory: ${fmt(bare)} | ${ratioCell(v(row, 'pglite'), bare)} / ${ratioCell(v(row, 'postgres'), bare)} |`);
  }
  const api = v('portal', 'api');
  const plain = v('portal', 'plain');
  if (api) {
    lines.push(`| portal API with bearer JWT | ${fmt(api.cpuMsPerOp)} CPU-ms, ${fmt(api.opsPerSecond)}/s | same (no database) | plain Express route: ${fmt(plain?.cpuMsPerOp)} CPU-ms, ${fmt(plain?.opsPerSecond)}/s | CPU ${ratioCell(api, plain?.cpuMsPerOp)}, throughput ${fmt(ratio(api.opsPerSecond, plain?.opsPerSecond))}× |`);
  }
  const m = results.memory;
  const mem = (r: MemoryResult | undefined) => (r ? `${fmt(r.idleMiB)} / up to ${fmt(r.signInLoadPeakMiB)} MiB (${fmt(r.startPeakMiB)} at first start)` : '—');
  lines.push(`| RSS, idle / under sign-in load | ${mem(m.pglite)} | ${mem(m.postgres)} | bare oidc-provider: ${fmt(m.bare?.idleMiB)} MiB idle, up to ${fmt(m.bare?.signInLoadPeakMiB)} | ${fmt(ratio(m.pglite?.idleMiB, m.postgres?.idleMiB))}× idle |`);
  return lines;
}

function memoryTable(memory: Record<string, MemoryResult>): string[] {
  const lines = [
    '| process | seconds to ready (fresh database) | first start: peak RSS of its process tree | its own VmHWM when ready | 5 s after ready | idle (30 s after ready) | peak under sign-in load | idle 30 s after the run |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, m] of Object.entries(memory)) {
    lines.push(`| ${name === 'bare' ? 'bare oidc-provider (peak: under its own batches)' : `connect-iam, ${name}`} | ${fmt(m.startSeconds)} | ${fmt(m.startPeakMiB)} | ${fmt(m.startHwmMiB)} | ${fmt(m.earlyIdleMiB ?? null)} | ${fmt(m.idleMiB)} | ${fmt(m.signInLoadPeakMiB)} | ${fmt(m.idleAfterMiB)} |`);
  }
  return lines;
}

/** Every figure of every variant. */
function detailTable(results: Results): string[] {
  const lines = [
    '| row | variant | ops (all rounds) | errors | ops/s at concurrency 4 | p50 ms | p99 ms | CPU-ms/op | DB CPU-ms/op | round trips/op | Parse/op | requests/op | peak RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of results.rows) {
    for (const v of Object.values(row.variants)) {
      const m = v.median;
      lines.push(`| ${row.id} | ${v.label} | ${m.ops} | ${m.errors}${m.firstError ? ` (${m.firstError.replace(/\|/g, '/').slice(0, 80)})` : ''} | ${fmt(m.opsPerSecond)} | ${fmt(m.p50Ms)} | ${fmt(m.p99Ms)} | ${fmt(m.cpuMsPerOp)} | ${fmt(m.dbCpuMsPerOp)} | ${fmt(m.roundTripsPerOp)} | ${fmt(m.parsesPerOp)} | ${fmt(m.requestsPerOp)} | ${fmt(m.rssPeakMiB)} |`);
    }
  }
  return lines;
}

function targetTable(targets: TargetResult[]): string[] {
  const lines = ['| measure | target | this run | met? | per-round ratios: median (range) |', '|---|---|---|---|---|'];
  for (const t of targets) {
    const value = t.value === null ? 'not measured' : `${fmt(t.value)}${t.unit === '×' ? '×' : ` ${t.unit}`}`;
    const met = t.met === null ? '—' : t.met ? 'yes' : `no: ${t.missedBy}`;
    const rounds = t.perRound ? `${fmt(t.perRound.median)}× (${fmt(t.perRound.min)}–${fmt(t.perRound.max)})` : '—';
    lines.push(`| ${t.measure} | ${t.target} | ${value} | ${met} | ${rounds} |`);
  }
  return lines;
}

/** The Markdown report. */
export function renderMarkdown(results: Results): string {
  const meta = results.meta as Record<string, string | number | string[]>;
  return [
    '# connect-iam bench: latest results',
    '',
    `Written by \`npm run bench\` on ${meta.date}. How to read it: bench/README.md.`,
    '',
    `- Commit ${meta.commit}${(meta.uncommittedFiles as string[]).length ? `, with uncommitted changes to ${(meta.uncommittedFiles as string[]).join(', ')}` : ''}; processes run ${meta.runtime === 'compiled' ? 'compiled (tsc)' : 'under tsx'}`,
    `- Node ${meta.node}, OpenSSL ${meta.openssl}, oidc-provider ${meta.oidcProvider}`,
    `- PostgreSQL server: ${meta.postgres}`,
    `- PGlite ${meta.pglite} (${meta.pgliteServer})`,
    `- CPU: ${meta.cpu}, ${meta.cores} cores; load average at start ${meta.loadAtStart}, at end ${meta.loadAtEnd}`,
    `- ${meta.rounds} interleaved rounds of ${meta.seconds} s batches (password POST: ${meta.passwordCount} per batch), concurrency ${meta.concurrency}; medians of the rounds`,
    ...((meta.notes as string[]) ?? []).map((n) => `- ${n}`),
    '',
    '## The issue\'s table',
    '',
    'CPU-ms per operation of the server process (utime + stime of all its threads); on the PostgreSQL server, `+ N in the database` is the CPU of the PostgreSQL backends serving it, and round trips are counted on the wire. Ratios use the total.',
    '',
    ...summaryTable(results),
    '',
    '## Targets (issue 10 §2)',
    '',
    ...targetTable(results.targets),
    '',
    '## Every figure (medians of the rounds)',
    '',
    ...detailTable(results),
    '',
    '## Memory (RSS, MiB)',
    '',
    ...memoryTable(results.memory),
    '',
  ].join('\n');
}

/** Writes `latest.json` and `latest.md` into `dir`. */
export async function writeResults(dir: string, results: Results): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, 'latest.json');
  const markdown = path.join(dir, 'latest.md');
  await writeFile(json, `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  await writeFile(markdown, renderMarkdown(results));
  return { json, markdown };
}
