/**
 * bench/report.ts judges every target of issue 10 §2 (met, or missed by how much) and, for the ratios to a
 * baseline measured in the same rounds, also gives the median of the per-round ratios, which a burst of other
 * load on the machine moves less than the ratio of the two medians.
 */
import { describe, expect, it } from 'vitest';
import type { Measurement } from '../../bench/measure.js';
import { evaluateTargets, perRoundRatios, renderMarkdown, type Results, type RowResult } from '../../bench/report.js';

/** A measurement with the given CPU (and database CPU) per operation. */
function m(cpuMsPerOp: number, extra: Partial<Measurement> = {}): Measurement {
  return { ops: 100, errors: 0, opsPerSecond: 1000 / cpuMsPerOp, p50Ms: 1, p99Ms: 2, cpuMsPerOp, dbCpuMsPerOp: null, roundTripsPerOp: null, parsesPerOp: null, connectionsOpened: null, requestsPerOp: null, rssPeakMiB: 100, ...extra };
}

function row(id: RowResult['id'], variants: Record<string, Measurement[]>): RowResult {
  return { id, title: id, variants: Object.fromEntries(Object.entries(variants).map(([k, rounds]) => [k, { id: k, label: k, rounds, median: rounds[Math.floor(rounds.length / 2)]! }])) };
}

describe('bench report', () => {
  // Three rounds; round 2 ran under a burst of load that doubled both figures.
  const results: Results = {
    meta: { commit: 'test', uncommittedFiles: [], notes: [] },
    rows: [
      row('jwks', { postgres: [m(0.06, { dbCpuMsPerOp: 0 }), m(0.12, { dbCpuMsPerOp: 0 }), m(0.066, { dbCpuMsPerOp: 0 })], bare: [m(0.05), m(0.1), m(0.06)] }),
      row('refresh', { postgres: [m(2, { dbCpuMsPerOp: 1, roundTripsPerOp: 4 })], bare: [m(1)] }),
      row('portal', { api: [m(0.2, { opsPerSecond: 700 })], plain: [m(0.1, { opsPerSecond: 1000 })] }),
    ],
    memory: { postgres: { startSeconds: 1, startPeakMiB: 150, startHwmMiB: 150, idleMiB: 130, signInLoadPeakMiB: 240, idleAfterMiB: 140 } },
    targets: [],
  };

  it('pairs round i of ours with round i of the baseline', () => {
    const r = perRoundRatios(results, 'jwks', 'postgres', 'bare', (x) => x.cpuMsPerOp);
    expect(r!.median).toBeCloseTo(1.2, 6);
    expect(r!.min).toBeCloseTo(1.1, 6);
    expect(r!.max).toBeCloseTo(1.2, 6);
    expect(perRoundRatios(results, 'userinfo', 'postgres', 'bare', (x) => x.cpuMsPerOp)).toBeNull();
  });

  it('judges every target of the issue, with how much a missed one is missed by', () => {
    const targets = evaluateTargets(results);
    expect(targets.map((t) => t.measure)).toEqual([
      'full sign-in, CPU-ms (server + database)', 'full sign-in ÷ one argon2 verify (goal)', 'database round trips per sign-in',
      'round trips per refresh', 'round trips per userinfo', 'refresh vs bare oidc-provider (CPU)', 'userinfo vs bare oidc-provider (CPU)',
      'JWKS vs bare oidc-provider (CPU)', 'discovery vs bare oidc-provider (CPU)', 'portal API throughput ÷ plain route',
      'idle RSS (PostgreSQL server)', 'RSS under sign-in load (PostgreSQL server)', 'PGlite sign-in ÷ PostgreSQL sign-in (CPU)', 'idle RSS (PGlite)',
    ]);
    const byName = (name: string) => targets.find((t) => t.measure === name)!;
    // Database CPU counts: (2 + 1) / 1.
    expect(byName('refresh vs bare oidc-provider (CPU)')).toMatchObject({ value: 3, met: false, missedBy: '1.50× the target', perRound: { median: 3 } });
    expect(byName('round trips per refresh')).toMatchObject({ value: 4, met: true, missedBy: null });
    expect(byName('JWKS vs bare oidc-provider (CPU)')).toMatchObject({ met: true, perRound: { median: expect.closeTo(1.2, 6) } });
    expect(byName('portal API throughput ÷ plain route')).toMatchObject({ value: 0.7, met: true, perRound: { median: 0.7 } });
    expect(byName('idle RSS (PostgreSQL server)')).toMatchObject({ value: 130, met: false, missedBy: '5.00 MiB over (1.04× the target)' });
    expect(byName('RSS under sign-in load (PostgreSQL server)')).toMatchObject({ value: 240, met: true });
    expect(byName('full sign-in, CPU-ms (server + database)')).toMatchObject({ value: null, met: null });

    const markdown = renderMarkdown({ ...results, targets });
    expect(markdown).toContain('| refresh vs bare oidc-provider (CPU) | ≤ 2× | 3.00× | no: 1.50× the target | 3.00× (3.00–3.00) |');
    expect(markdown).toContain('| full sign-in, CPU-ms (server + database) | ≤ 20 CPU-ms | not measured | — | — |');
  });
});
