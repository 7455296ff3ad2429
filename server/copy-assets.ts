/**
 * Second half of `npm run build`: copies what tsc does not emit — EJS views, static files and SQL
 * migrations — next to the compiled modules in `dist/`, so `node dist/server/main.js` finds them.
 */
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const MODULES = ['server', 'idp', 'identity', 'storage', 'admin-console', 'portal-adapters', 'policies', 'lib', 'examples'];
const ASSET_DIRECTORIES = new Set(['views', 'public', 'migrations']);

function copyAssets(dir: string): number {
  let copied = 0;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (!statSync(full).isDirectory() || name === 'node_modules') continue;
    if (ASSET_DIRECTORIES.has(name)) {
      cpSync(full, path.join(root, 'dist', path.relative(root, full)), { recursive: true });
      copied++;
    } else copied += copyAssets(full);
  }
  return copied;
}

const copied = MODULES.filter((m) => existsSync(path.join(root, m))).reduce((n, m) => n + copyAssets(path.join(root, m)), 0);
console.log(`copied ${copied} asset folders to dist/`);
