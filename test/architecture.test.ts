/**
 * The import rules of design/architecture.md, checked on every source file. Fails when a module imports
 * what it may not, or reaches into another module without going through its index.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const MODULES = ['server', 'idp', 'identity', 'storage', 'admin-console', 'portal-adapters', 'policies', 'lib', 'examples', 'test', 'bench'] as const;
type Module = (typeof MODULES)[number];

/** Internal modules each module may import (besides itself). */
const ALLOWED: Record<Module, readonly Module[] | 'any'> = {
  policies: [],
  lib: [],
  identity: ['lib', 'policies'],
  storage: ['lib', 'identity'],
  idp: ['lib', 'identity', 'policies'],
  'admin-console': ['lib', 'identity', 'policies', 'portal-adapters'],
  'portal-adapters': ['policies'],
  server: 'any',
  test: 'any',
  examples: 'any',
  bench: 'any',
};

/** Packages a module must never import (design/architecture.md). */
const FORBIDDEN_PACKAGES: Partial<Record<Module, RegExp>> = {
  identity: /^(express|pg|drizzle-orm|oidc-provider|@electric-sql\/.*)(\/|$)/,
  policies: /^[^.]/,
  'portal-adapters': /^(oidc-provider|pg|drizzle-orm|@electric-sql\/.*)(\/|$)/,
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'migrations' || name === 'dist') continue; // dist: a package's build output (portal-adapters/dist)
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return specifiers.map((m) => m[1]!);
}

const violations: string[] = [];
for (const module of MODULES) {
  const dir = path.join(root, module);
  let files: string[] = [];
  try {
    files = sourceFiles(dir);
  } catch {
    continue;
  }
  for (const file of files) {
    for (const spec of importsOf(file)) {
      const rel = path.relative(root, file);
      if (!spec.startsWith('.')) {
        if (spec.startsWith('node:')) continue;
        if (FORBIDDEN_PACKAGES[module]?.test(spec)) violations.push(`${rel} imports package ${spec}`);
        continue;
      }
      const target = path.relative(root, path.resolve(path.dirname(file), spec));
      const targetModule = target.split(path.sep)[0] as Module;
      if (targetModule === module || !MODULES.includes(targetModule)) continue;
      const allowed = ALLOWED[module];
      if (allowed !== 'any' && !allowed.includes(targetModule)) violations.push(`${rel} imports ${target} (${module} may not import ${targetModule})`);
      if (allowed !== 'any' && target !== path.join(targetModule, 'index.js')) violations.push(`${rel} imports ${target} instead of ${targetModule}/index.js`);
    }
  }
}

describe('architecture', () => {
  it('keeps every import within the rules of design/architecture.md', () => {
    expect(violations).toEqual([]);
  });

  it('checks real files (the scan is not empty)', () => {
    expect(sourceFiles(path.join(root, 'identity')).length).toBeGreaterThan(3);
    expect(importsOf(path.join(root, 'identity', 'index.ts'))).toContain('../lib/index.js');
  });
});
