/**
 * The operator CLI loads oidc-provider only for commands that need it (issue 12 §6): none of today's commands
 * does, so `organization create` no longer prints oidc-provider's "Unsupported runtime" warning on Node 20.
 * The module trace (test/support/module-trace.mjs) shows it on any Node version: oidc-provider is never resolved.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { separateProcessDatabase } from './support/database.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('operator CLI without oidc-provider', () => {
  let db: Awaited<ReturnType<typeof separateProcessDatabase>>;
  const traceDir = mkdtempSync(path.join(tmpdir(), 'connect-iam-trace-'));

  beforeAll(async () => {
    db = await separateProcessDatabase();
  });
  afterAll(async () => {
    await db?.dispose();
    rmSync(traceDir, { recursive: true, force: true });
  });

  /** Runs `iam <args>` from the sources (as `npm run iam --` does) with the module trace. */
  function iam(args: string[], trace: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/support/module-trace.mjs', 'server/cli.ts', ...args], {
        cwd: root,
        env: { ...process.env, ...db.env, LOG_LEVEL: 'warn', NODE_ENV: 'development', MODULE_TRACE_FILE: trace },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.stdin.end();
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('organization create prints no "Unsupported runtime" warning and never resolves oidc-provider', async () => {
    const trace = path.join(traceDir, 'organization-create.txt');
    const result = await iam(['--init', 'organization', 'create', '--name', 'Quiet Brokers Ltd', '--participant-id', 'B06666'], trace);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('created organization Quiet Brokers Ltd');
    expect(result.stderr).not.toContain('Unsupported runtime');
    // The trace works (the CLI's own packages are in it) and oidc-provider is not.
    expect(existsSync(trace)).toBe(true);
    const resolved = new Set(readFileSync(trace, 'utf8').split('\n').filter(Boolean));
    expect(resolved).toContain('commander');
    expect(resolved).toContain('drizzle-orm');
    expect([...resolved].filter((s) => s === 'oidc-provider' || s.startsWith('oidc-provider/'))).toEqual([]);
  });
});
