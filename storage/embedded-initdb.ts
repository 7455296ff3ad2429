/**
 * Creating embedded PostgreSQL data folders in a short-lived child process, and the memory settings every
 * embedded database runs with.
 *
 * PGlite (0.5.14) creates a data folder by running `initdb.wasm` beside a second, in-memory PGlite. Measured
 * on Node 20, that leaves the process at 700–800 MB RSS for good (WebAssembly memories never shrink), while
 * opening an existing folder costs about 120 MB. So a new folder is made by a child process that exits, and
 * the server only ever opens existing folders. initdb itself runs once per machine (and PGlite version): its
 * fresh folder is kept as a tar in the system's temporary folder, and new data folders (by a child) and
 * in-memory databases (tests) load a copy of it instead of running initdb.
 *
 * The child is this module run as a script: `node embedded-initdb.js folder <path> <tar>` or `… template <file>`.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * PostgreSQL settings of every embedded database, given on PGlite's command line (so they also apply to data
 * folders made by older versions, whose `postgresql.conf` says `shared_buffers = 128MB`).
 * `shared_buffers`: PGlite allocates and touches all of it at start; 128 MB (initdb's default) measured
 * 293 MB RSS for a bare open, 16 MB measured 163 MB. The IdP's working set is small, and pages that miss this
 * cache are read from the operating system's file cache.
 */
export const EMBEDDED_POSTGRES_SETTINGS = ['shared_buffers=16MB'];

/**
 * PGlite's `startParams`: its defaults (`PGlite.defaultStartParams`) plus {@link EMBEDDED_POSTGRES_SETTINGS}.
 * A function of the defaults, so that the app's thread, which only starts the database's worker, never loads
 * PGlite's code.
 */
export function embeddedStartParams(defaults: readonly string[]): string[] {
  return [...defaults, ...EMBEDDED_POSTGRES_SETTINGS.flatMap((s) => ['-c', s])];
}

/** initdb's arguments: the same settings, also written to the new folder's `postgresql.conf`. */
const INITDB_PARAMS = EMBEDDED_POSTGRES_SETTINGS.flatMap((s) => ['-c', s]);

const thisFile = fileURLToPath(import.meta.url);

/**
 * Runs this module as a child process (through tsx's loader when running from the TypeScript sources).
 * `--liftoff-only`: V8 runs the WebAssembly with its baseline compiler and never optimizes it, which for a
 * single initdb measured 3.9 s instead of 7.8 s and a peak of 617 MB instead of 735 MB.
 */
async function runChild(args: string[]): Promise<void> {
  const loader = thisFile.endsWith('.ts') ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
  const child = spawn(process.execPath, ['--liftoff-only', ...loader, thisFile, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`creating an embedded PostgreSQL data folder failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join(' ')}`);
}

/**
 * Creates a new PostgreSQL data folder at `pgdata` (absolute) in a child process, from the fresh-folder
 * template ({@link freshDataFolderTemplate}'s tar, made by initdb once per machine and PGlite version):
 * loading it measured 2.5 CPU-s and a 260 MB peak instead of initdb's 7.2 CPU-s and 680 MB. Atomic: the child
 * writes `<pgdata>.creating`, renamed to `pgdata` once complete, so a crash leaves no half-made database
 * behind. Call it holding the folder lock, when `pgdata` is missing or an empty folder.
 * @throws Error with the child's last lines when it fails.
 */
export async function createEmbeddedDataFolder(pgdata: string): Promise<void> {
  const creating = `${pgdata}.creating`;
  await rm(creating, { recursive: true, force: true });
  await mkdir(path.dirname(pgdata), { recursive: true });
  await runChild(['folder', creating, await freshDataFolderTemplateFile()]);
  await rmdir(pgdata).catch(() => undefined); // an empty folder left by an earlier attempt
  await rename(creating, pgdata);
}

/** True when `folder` does not exist or holds nothing. */
export async function isMissingOrEmpty(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

let templateFile: Promise<string> | undefined;

/**
 * The file of the fresh-folder template: `<tmpdir>/connect-iam-pglite-<version>-<settings>-<uid>.tar` (40 MB,
 * mode 0600), a tar of a data folder just made by initdb with {@link EMBEDDED_POSTGRES_SETTINGS}, made once by
 * a child process and kept for later processes; one that another user owns or may write is not used (the
 * temporary folder is shared with other users), a private one is made instead.
 */
function freshDataFolderTemplateFile(): Promise<string> {
  return (templateFile ??= (async () => {
    const packageJson = path.join(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json');
    const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
    const settings = EMBEDDED_POSTGRES_SETTINGS.join('-').replace(/[^a-zA-Z0-9_-]/g, '_');
    const tar = path.join(tmpdir(), `connect-iam-pglite-${version}-${settings}-${process.getuid?.() ?? 'user'}.tar`);
    const usable = await stat(tar).then(
      (s) => s.uid === (process.getuid?.() ?? s.uid) && (s.mode & 0o022) === 0,
      () => null,
    );
    if (usable) return tar;
    if (usable === null) {
      await runChild(['template', tar]);
      return tar;
    }
    const own = path.join(await mkdtemp(path.join(tmpdir(), 'connect-iam-pglite-')), 'template.tar');
    await runChild(['template', own]);
    return own;
  })().catch((error: unknown) => {
    templateFile = undefined;
    throw error;
  }));
}

/**
 * A fresh data folder as a tar, for PGlite's `loadDataDir` (an in-memory database without initdb: measured
 * 1 s instead of 6–10 s, and 385 MB RSS instead of 830 MB): the file of {@link freshDataFolderTemplateFile}.
 */
export async function freshDataFolderTemplate(): Promise<Blob> {
  const file = await freshDataFolderTemplateFile();
  try {
    return new Blob([await readFile(file)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    templateFile = undefined; // the temporary folder was cleaned: make it again
    return freshDataFolderTemplate();
  }
}

/** Reads the template tar; null when it is gone (the temporary folder was cleaned meanwhile). */
async function readTemplate(file: string): Promise<Blob | null> {
  try {
    return new Blob([await readFile(file)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * The child: `folder <path> <template>` creates a data folder there from the template tar (by initdb when
 * the tar is gone); `template <file>` writes a tar of a new one (atomically).
 */
async function child([mode, target, template]: string[]): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const startParams = embeddedStartParams(PGlite.defaultStartParams);
  if (mode === 'folder' && target && template) {
    await mkdir(target, { recursive: true });
    const tar = await readTemplate(template);
    const pglite = await PGlite.create(target, tar ? { loadDataDir: tar, startParams } : { initDbStartParams: INITDB_PARAMS, startParams });
    await pglite.close();
  } else if (mode === 'template' && target) {
    const pglite = await PGlite.create({ initDbStartParams: INITDB_PARAMS, startParams });
    const tar = await pglite.dumpDataDir('none');
    await pglite.close();
    const partial = `${target}.${process.pid}`;
    await writeFile(partial, Buffer.from(await tar.arrayBuffer()), { mode: 0o600 });
    await rename(partial, target);
  } else {
    throw new Error('usage: embedded-initdb folder <path> <template tar> | template <file>');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  child(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.stack : error);
      process.exit(1);
    },
  );
}
