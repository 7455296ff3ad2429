/**
 * The documentation a newcomer reads stays inside the repository (issue 12 §6): every relative link of README.md,
 * docs/*.md and portal-adapters/README.md names a file that exists in this checkout, none leads out of it (the
 * README used to point at `../shared/design/`, a folder only the team workspace has), and docs/architecture.md
 * keeps up with the code: every shipped module folder and every runtime dependency of both packages is in it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

const MARKDOWN = ['README.md', 'portal-adapters/README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Relative link targets of a Markdown file (`[text](target)`), without `#fragment`. */
function relativeLinks(file: string): string[] {
  return [...read(file).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0]!);
}

/** JSON of a package.json. */
const manifest = (file: string) => JSON.parse(read(file)) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };

describe('documentation links and docs/architecture.md', () => {
  it.each(MARKDOWN)('%s links only to files inside the repository that exist', (file) => {
    const links = relativeLinks(file);
    const broken = links.filter((target) => {
      const resolved = path.resolve(root, path.dirname(file), target);
      return !resolved.startsWith(root) || !existsSync(resolved);
    });
    expect(broken).toEqual([]);
    expect(read(file)).not.toMatch(/\.\.\/shared\/|team workspace/);
  });

  it('README links the architecture inside the repository', () => {
    expect(relativeLinks('README.md')).toContain('docs/architecture.md');
  });

  it('docs/architecture.md lists every module folder that is built and shipped', () => {
    const architecture = read('docs/architecture.md');
    const { include } = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    expect(include.length).toBeGreaterThan(5);
    const missing = include.filter((module) => !new RegExp(`^${module}/\\s`, 'm').test(architecture));
    expect(missing).toEqual([]);
  });

  it('docs/architecture.md names every runtime dependency of both packages', () => {
    const architecture = read('docs/architecture.md');
    const names = [manifest('package.json'), manifest('portal-adapters/package.json')].flatMap((m) => [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
    expect(names).toContain('oidc-provider');
    expect(names.filter((name) => !architecture.includes(name))).toEqual([]);
  });
});
