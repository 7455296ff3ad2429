/**
 * Runs one of the project's TypeScript entry points (e.g. `server/cli.ts`) in a child process without tsx's
 * loader: esbuild — the compiler tsx itself uses — bundles the entry with the project's own modules (packages
 * stay imports, resolved from `node_modules`) into `node_modules/.cache/connect-iam/entry-<name>-<hash>.mjs`,
 * once per test process. Each module's `import.meta.url` is replaced by its source file's URL, so that files
 * found beside a module (migrations, views, static files) and `createRequire` resolve as they do under tsx.
 *
 * Measured per CLI process (`iam organization list` on the embedded database): tsx's loader costs about
 * 2 CPU-s of transpiling and resolving that a bundle does not. For tests about the CLI's behaviour, not
 * about tsx (test/cli-runtime-warning.test.ts keeps tsx: it traces what the process resolves).
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = new Map<string, Promise<string>>();

/**
 * The bundle of `entry` (a path relative to the project root, e.g. `server/cli.ts`): an absolute `.mjs`
 * path to run with `node <path> …`, in any working directory.
 * @throws esbuild's error when the sources do not compile.
 */
export function compiledEntry(entry: string): Promise<string> {
  let file = built.get(entry);
  if (!file) {
    file = bundle(entry);
    built.set(entry, file);
    file.catch(() => built.delete(entry));
  }
  return file;
}

async function bundle(entry: string): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'source-import-meta-url',
        setup(build) {
          build.onLoad({ filter: /\.ts$/ }, async (args) => {
            const source = await readFile(args.path, 'utf8');
            return { contents: source.replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]!.text;
  const folder = path.join(root, 'node_modules/.cache/connect-iam');
  const name = path.basename(entry, '.ts');
  const file = path.join(folder, `entry-${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!(await stat(file).then(() => true, () => false))) {
    await mkdir(folder, { recursive: true });
    // Written whole, then renamed: processes of other test files may be reading the same bundle.
    const partial = `${file}.${process.pid}`;
    await writeFile(partial, code);
    await rename(partial, file);
  }
  return file;
}
