/**
 * `npm run bench` works end to end, cheaply: one quick round of the discovery row (connect-iam started as a
 * process on a fresh database, seeded, measured, against the bare oidc-provider baseline) writes a results file
 * whose figures are numbers. The pglite project runs it on PGlite; the postgres project on the PostgreSQL server,
 * where round trips and database CPU are counted on the wire too. It gets 180 s: under tsx at load average ~20
 * on this 2-core machine the embedded database alone took 47 s to start; the run took 75 s alone and 98 s in this test.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { usingPostgresServer } from '../support/database.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const db = usingPostgresServer ? 'postgres' : 'pglite';

describe('npm run bench', () => {
  it(`a quick discovery run on ${db} writes latest.json and latest.md with measured numbers`, { timeout: 180_000 }, async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'connect-iam-bench-smoke-'));
    try {
      const env = { ...process.env, ...(usingPostgresServer ? { BENCH_DATABASE_URL: process.env.TEST_DATABASE_URL } : {}) };
      await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'discovery', '--db', db, '--runtime', 'tsx', '--out', out], { cwd: root, env, timeout: 170_000 });
      const results = JSON.parse(await readFile(path.join(out, 'latest.json'), 'utf8'));
      const row = results.rows.find((r: { id: string }) => r.id === 'discovery');
      for (const variant of [db, 'bare']) {
        const m = row.variants[variant].median;
        expect({ variant, errors: m.errors }).toEqual({ variant, errors: 0 });
        for (const figure of ['cpuMsPerOp', 'opsPerSecond', 'p50Ms', 'p99Ms']) expect({ variant, figure, positive: m[figure] > 0 }).toEqual({ variant, figure, positive: true });
      }
      const ours = row.variants[db].median;
      if (usingPostgresServer) {
        expect(ours.roundTripsPerOp).toBeGreaterThanOrEqual(0);
        expect(ours.dbCpuMsPerOp).toBeGreaterThanOrEqual(0);
      } else expect(ours.roundTripsPerOp).toBeNull();
      expect(results.memory[db].idleMiB).toBeGreaterThan(10);
      expect(results.meta.openssl).toBe(process.versions.openssl);
      const target = results.targets.find((t: { measure: string }) => t.measure.startsWith('discovery vs bare'));
      expect(target.value ?? 'postgres only').toEqual(usingPostgresServer ? expect.any(Number) : 'postgres only');
      const markdown = await readFile(path.join(out, 'latest.md'), 'utf8');
      expect(markdown).toContain('| discovery |');
      expect(markdown).toContain(`OpenSSL ${process.versions.openssl}`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
