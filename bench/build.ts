/**
 * The bench runs the server as production does (`npm run build`, then `node dist/server/main.js`): compiled
 * JavaScript under plain `node`, without tsx's loader and its in-memory transpiled sources, so memory and CPU
 * figures are the product's own. It compiles into `node_modules/.cache/connect-iam-bench/<pid>/` (below
 * `node_modules`, so that packages resolve from the project's; one folder per run, so that two runs in one
 * checkout never replace each other's files) with `tsc --noCheck` — emitting without type checking, so work in
 * progress elsewhere in the tree cannot stop a bench run — from the entry files the bench starts, then copies
 * the views, static files and SQL migrations beside the modules as server/copy-assets.ts does for `dist/`.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** Entry points the bench starts as processes. */
export const ENTRIES = ['server/main.ts', 'bench/portal-app.ts', 'bench/baseline-provider.ts'];
const MODULES = ['server', 'idp', 'identity', 'storage', 'admin-console', 'portal-adapters', 'policies', 'lib', 'examples'];
const ASSET_DIRECTORIES = new Set(['views', 'public', 'migrations']);

function copyAssets(root: string, dir: string, outDir: string): void {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (!statSync(full).isDirectory() || name === 'node_modules') continue;
    if (ASSET_DIRECTORIES.has(name)) cpSync(full, path.join(outDir, path.relative(root, full)), { recursive: true });
    else copyAssets(root, full, outDir);
  }
}

/** Whether a process with this pid exists. */
function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Compiles {@link ENTRIES} and what they import into the cache folder.
 * @returns the folder; a `.ts` entry `x/y.ts` is then `<folder>/x/y.js`.
 * @throws when tsc cannot emit (a syntax error).
 */
export async function compileForBench(root: string): Promise<string> {
  const cache = path.join(root, 'node_modules/.cache/connect-iam-bench');
  // Folders of runs that ended without removing theirs (their pid is gone).
  for (const name of existsSync(cache) ? readdirSync(cache) : []) if (/^\d+$/.test(name) && !isRunning(Number(name))) rmSync(path.join(cache, name), { recursive: true, force: true });
  const outDir = path.join(cache, String(process.pid));
  rmSync(outDir, { recursive: true, force: true });
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const flags = ['--noCheck', '--outDir', outDir, '--rootDir', '.', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2023', '--lib', 'ES2023', '--types', 'node', '--skipLibCheck', '--esModuleInterop', '--resolveJsonModule', '--verbatimModuleSyntax', '--isolatedModules'];
  try {
    await promisify(execFile)(process.execPath, [tsc, ...flags, ...ENTRIES], { cwd: root, maxBuffer: 16 * 2 ** 20 });
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    throw new Error(`compiling the bench's processes failed:\n${stdout?.slice(0, 4000) ?? String(error)}`);
  }
  for (const module of MODULES) if (existsSync(path.join(root, module))) copyAssets(root, path.join(root, module), outDir);
  // Below node_modules/ the project's package.json does not apply: say again that these files are ES modules.
  writeFileSync(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
  return outDir;
}

/** Removes a folder made by {@link compileForBench}. */
export function removeCompiled(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
}
