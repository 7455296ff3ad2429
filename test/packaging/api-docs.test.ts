/**
 * The API reference (issue 12 §5): TypeDoc documents the public exports of `connect-iam` (server/embed.ts) and
 * `@connect-iam/portal-adapters` (portal-adapters/index.ts) from their docstrings (`npm run docs:api` writes
 * api-docs/). Its validation (typedoc.json: `validation.notDocumented` for functions, classes, interfaces, type
 * aliases, variables and enums, `invalidLink`, `treatWarningsAsErrors`) fails when an export has no docstring —
 * shown here on a scratch module — and passes on the two packages.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const typedocCli = path.join(root, 'node_modules/typedoc/bin/typedoc');

/** Runs TypeDoc with `args` (validation only, nothing written) and returns its exit code and output. */
function typedoc(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [typedocCli, '--emit', 'none', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('API reference (TypeDoc)', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'connect-iam-typedoc-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('documents both packages: every public export has a docstring and every link resolves', async () => {
    const config = JSON.parse(readFileSync(path.join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[]; validation: Record<string, boolean>; treatWarningsAsErrors: boolean };
    expect(config.entryPoints).toEqual(['server/embed.ts', 'portal-adapters/index.ts']);
    expect(config.validation.notDocumented).toBe(true);
    expect(config.treatWarningsAsErrors).toBe(true);
    const { code, output } = await typedoc([]);
    expect(output.split('\n').filter((line) => /warning|error/i.test(line))).toEqual([]);
    expect(code).toBe(0);
  }, 300_000);

  it('fails on an export without a docstring (the same settings on a scratch module)', async () => {
    writeFileSync(path.join(scratch, 'entry.ts'), '/** Documented. */\nexport function documented(): number {\n  return 1;\n}\n\nexport function undocumented(): number {\n  return 2;\n}\n');
    writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: [] }, include: ['entry.ts'] }));
    // The scratch options extend typedoc.json, replacing only what is documented.
    writeFileSync(path.join(scratch, 'typedoc.json'), JSON.stringify({ extends: [path.join(root, 'typedoc.json')], entryPoints: ['entry.ts'], tsconfig: 'tsconfig.json' }));
    const { code, output } = await typedoc(['--options', path.join(scratch, 'typedoc.json')]);
    expect(output).toMatch(/undocumented \((Function|CallSignature)\).*does not have any documentation/);
    expect(output).not.toMatch(/\bdocumented \((Function|CallSignature)\)/);
    expect(code).not.toBe(0);
  }, 120_000);
});
