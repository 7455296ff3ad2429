/**
 * Known-advisory versions stay out of the dependency tree (issue 8, point 13): every package the lockfile
 * installs, direct or transitive, is checked against the advisories below. `npm audit` cannot run where this
 * project builds (the registry's bulk advisory endpoint is not reachable), so the ranges are kept here; add one
 * when an advisory names a package we install.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/** An advisory: every version of `name` below `fixed` is affected. */
interface Advisory {
  name: string;
  fixed: string;
  ids: string[];
}

const ADVISORIES: Advisory[] = [
  // addressparser: unbounded recursion on nested groups (fixed in 7.0.11); header injection and
  // file-access bypasses reported for versions up to 9.0.0.
  { name: 'nodemailer', fixed: '7.0.11', ids: ['GHSA-rcmh-qjqh-p98v'] },
  { name: 'nodemailer', fixed: '9.0.1', ids: ['GHSA-268h-hp4c-crq3', 'GHSA-wqvq-jvpq-h66f'] },
  // LinkifyIt#match quadratic scan (fixed in 5.0.1); the mailto: validator's quadratic scan (fixed in 5.0.2).
  { name: 'linkify-it', fixed: '5.0.2', ids: ['GHSA-22p9-wv53-3rq4', 'GHSA-v245-v573-v5vm'] },
];

/** Compares two `major.minor.patch` versions (pre-release tags count as the release before them). */
function below(version: string, fixed: string): boolean {
  const parse = (v: string) => v.split('-')[0]!.split('.').map(Number);
  const [a, b] = [parse(version), parse(fixed)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return version.includes('-');
}

/** Every installed package of the lockfile: its path under node_modules, its name and version. */
async function lockedPackages(): Promise<{ path: string; name: string; version: string }[]> {
  const lock = JSON.parse(await readFile(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version?: string; name?: string; link?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.includes('node_modules/') && entry.version && !entry.link)
    .map(([path, entry]) => ({ path, name: entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), version: entry.version! }));
}

describe('dependencies', () => {
  it('the version comparison finds the versions the advisories name', () => {
    expect(below('7.0.9', '7.0.11')).toBe(true);
    expect(below('5.0.0', '5.0.2')).toBe(true);
    expect(below('10.6.0', '9.0.1')).toBe(false);
    expect(below('5.0.2', '5.0.2')).toBe(false);
    expect(below('5.0.2-rc.1', '5.0.2')).toBe(true);
  });

  it('package-lock.json installs no version with a known advisory (mailparser no longer brings nodemailer 7.0.9 or linkify-it 5.0.0)', async () => {
    const packages = await lockedPackages();
    expect(packages.some((p) => p.name === 'nodemailer')).toBe(true);
    expect(packages.some((p) => p.name === 'linkify-it')).toBe(true);
    const affected = packages.flatMap((p) => ADVISORIES.filter((a) => a.name === p.name && below(p.version, a.fixed)).map((a) => `${p.path}@${p.version}: ${a.ids.join(', ')}`));
    expect(affected).toEqual([]);
  });
});
