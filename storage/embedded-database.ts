/**
 * The embedded PostgreSQL (PGlite): in memory for tests, or on disk at `<dataDir>/pgdata` under the folder
 * lock. PGlite runs in a worker thread of its own (storage/embedded-worker.ts), off the event loop, and
 * serves the PostgreSQL wire protocol on a unix socket in a private temporary folder; the app reaches it
 * with a `pg` pool and drizzle's node-postgres driver, exactly as a PostgreSQL server
 * (storage/postgres-database.ts). One PGlite is one backend: the worker's queue serializes the
 * connections' transactions (storage/socket-session-queue.ts).
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { DomainError } from '../lib/index.js';
import type { DataDirOptions, Database, MemoryOptions } from './database.js';
import { createEmbeddedDataFolder, EMBEDDED_POSTGRES_SETTINGS, freshDataFolderTemplate, isMissingOrEmpty } from './embedded-initdb.js';
import type { EmbeddedWorkerData, EmbeddedWorkerReply, EmbeddedWorkerRequest } from './embedded-worker.js';
import { lockDataDir } from './folder-lock.js';
import { openPostgresDatabase } from './postgres-database.js';

/** The port number in socket file names (`.s.PGSQL.<port>`), as `pg` expects it: `{ host: <folder>, port }`. */
export const EMBEDDED_SOCKET_PORT = 5432;

/**
 * Connections of the app's pool to the worker. PGlite runs one statement at a time, so more connections add
 * no parallelism; a few keep the worker busy while the event loop handles the previous answer.
 */
const EMBEDDED_POOL_SIZE = 8;

let wasmModule: Promise<WebAssembly.Module> | undefined;

/**
 * The V8 flag set before PGlite's WebAssembly is compiled: V8 runs it with its baseline compiler (Liftoff)
 * only and never re-compiles hot functions with its optimizing compiler (TurboFan), as the initdb child
 * already does (storage/embedded-initdb.ts). TurboFan's compilations take memory that the process keeps
 * (V8 reported 65–80 MiB of peak malloc in the worker; glibc does not give it back) and CPU on the
 * background threads while the database starts. Measured with the compiled server on a fresh `DATA_DIR`
 * (Node 20): idle RSS 338 → 244 MiB; one `iam organization list` 4.4 → 2.8 CPU-s; a batch of catalog joins
 * grew the process to 260 MiB with TurboFan and 173 MiB without, at about 35 % more CPU per statement once
 * TurboFan's code is warm (the IdP's statements are small: see bench/results for the sign-in figures).
 * V8 flags are per process: other WebAssembly compiled afterwards in this process (undici's HTTP parser
 * for `fetch`) runs unoptimized too.
 */
const WASM_BASELINE_ONLY = '--liftoff-only';

/**
 * PGlite's `pglite.wasm`, compiled once per process (V8 compiles it off the event loop) and handed to every
 * worker: a second database in the same process (tests open several) then starts without compiling it again.
 * Sets {@link WASM_BASELINE_ONLY} first.
 */
function pgliteWasmModule(): Promise<WebAssembly.Module> {
  return (wasmModule ??= (async () => {
    setFlagsFromString(WASM_BASELINE_ONLY);
    const wasm = path.join(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), 'pglite.wasm');
    // `WebAssembly` is a global of Node's; the compiler's libraries here declare only its types.
    const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } };
    return wasmApi.compile(await readFile(wasm));
  })());
}

/** What storage keeps about an embedded database beyond its {@link Database} face. */
export interface EmbeddedState {
  /** Absolute data folder; null in memory. */
  dataDir: string | null;
  /** The app's socket file (in a private temporary folder; `pg` connects with `{ host: <its folder>, port: 5432 }`). */
  socketPath: string;
  /** Sends a request to the worker and waits for its answer. @throws Error with the worker's message, or when the worker is gone. */
  request(request: DistributiveOmit<EmbeddedWorkerRequest, 'id'>): Promise<void>;
  /** The worker thread (tests end it to see a crash surface). */
  worker: Worker;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const states = new WeakMap<Database, EmbeddedState>();

/** The worker behind `database`; undefined when it is a PostgreSQL server. */
export function embeddedStateOf(database: Database): EmbeddedState | undefined {
  return states.get(database);
}

/** True when `<dataDir>/pgdata` holds a PostgreSQL data folder (PGlite writes `PG_VERSION` when it creates one). */
export function embeddedDatabaseExists(dataDir: string): boolean {
  return existsSync(path.join(path.resolve(dataDir), 'pgdata', 'PG_VERSION'));
}

let workerScript: Promise<URL> | undefined;

/**
 * The worker's script. Compiled, `embedded-worker.js` beside this module. From the TypeScript sources (tsx,
 * vitest: development and tests only) esbuild — tsx's own compiler — bundles `embedded-worker.ts` with its one
 * local import into `node_modules/.cache/connect-iam/embedded-worker-<hash>.mjs` once per process, where the
 * packages it imports resolve: starting a worker under tsx's loader measured 0.55 s more CPU per database,
 * which every test file pays.
 */
function embeddedWorkerScript(): Promise<URL> {
  if (!import.meta.url.endsWith('.ts')) return Promise.resolve(new URL('./embedded-worker.js', import.meta.url));
  return (workerScript ??= (async () => {
    const esbuild = await import('esbuild');
    const built = await esbuild.build({ entryPoints: [fileURLToPath(new URL('./embedded-worker.ts', import.meta.url))], bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node20', write: false, logLevel: 'silent' });
    const code = built.outputFiles[0]!.text;
    const folder = fileURLToPath(new URL('../node_modules/.cache/connect-iam/', import.meta.url));
    const file = path.join(folder, `embedded-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    const present = await stat(file).then(() => true, () => false);
    if (!present) {
      await mkdir(folder, { recursive: true });
      const partial = `${file}.${process.pid}`;
      await writeFile(partial, code);
      await rename(partial, file);
    }
    return pathToFileURL(file);
  })());
}

/** Prepares what the worker opens: an existing data folder (made by initdb's child process when missing), or the memory template. */
async function workerSource(dataDir: string | null): Promise<Pick<EmbeddedWorkerData, 'pgdata' | 'template'>> {
  if (!dataDir) return { pgdata: null, template: await freshDataFolderTemplate() };
  const pgdata = path.join(dataDir, 'pgdata');
  // A folder that exists without `PG_VERSION` and is not empty is left to PGlite.
  if (!embeddedDatabaseExists(dataDir) && (await isMissingOrEmpty(pgdata))) await createEmbeddedDataFolder(pgdata);
  return { pgdata, template: null };
}

/** The worker's first message: resolves on `ready`, rejects on `failed` or when the thread ends first. */
function workerReady(worker: Worker): Promise<void> {
  return new Promise<void>((ready, failed) => {
    const onExit = (code: number) => failed(new Error(`the embedded database worker ended while starting (exit code ${code})`));
    worker.once('error', failed);
    worker.once('exit', onExit);
    worker.once('message', (reply: EmbeddedWorkerReply) => {
      worker.off('error', failed);
      worker.off('exit', onExit);
      if ('op' in reply && reply.op === 'ready') ready();
      else failed(Object.assign(new Error('message' in reply ? reply.message : 'the embedded database worker failed to start'), 'stack' in reply && reply.stack ? { stack: reply.stack } : {}));
    });
  });
}

/** Request/answer over the worker's port; a request pending when the thread ends is rejected. */
function requester(worker: Worker): { request: EmbeddedState['request']; gone(error: Error): void } {
  let next = 1;
  const pending = new Map<number, { done(): void; failed(error: Error): void }>();
  let ended: Error | undefined;
  worker.on('message', (reply: EmbeddedWorkerReply) => {
    if (!('id' in reply)) return;
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) waiter?.done();
    else waiter?.failed(new Error(reply.message));
  });
  return {
    request(request) {
      if (ended) return Promise.reject(ended);
      const id = next++;
      return new Promise<void>((done, failed) => {
        pending.set(id, { done, failed });
        worker.postMessage({ ...request, id } as EmbeddedWorkerRequest);
      });
    },
    gone(error) {
      ended = error;
      for (const waiter of pending.values()) waiter.failed(error);
      pending.clear();
    },
  };
}

/**
 * Opens PGlite in its worker (in memory or on disk), connects a `pg` pool to it and migrates it.
 * A worker that ends unexpectedly afterwards (a crash, or out of memory) makes every query fail with a
 * connection error (so `/readyz` answers 503) and calls `onWorkerExit`; by default that throws, which ends
 * the process with the reason: a server without its database cannot recover by itself.
 * @throws DomainError `not_found` (naming the absolute folder) with `mustExist` when `dataDir` holds no database;
 *   nothing is created then. EmbeddedDatabaseInUseError when another live process holds `dataDir`. The
 *   worker's error when PGlite cannot start (e.g. a damaged data folder), or a migration's.
 */
export async function openEmbeddedDatabase(options: MemoryOptions | DataDirOptions): Promise<Database> {
  const dataDir = 'dataDir' in options ? path.resolve(options.dataDir) : null;
  if (dataDir && 'dataDir' in options && options.mustExist && !embeddedDatabaseExists(dataDir)) {
    throw new DomainError('not_found', `no connect-iam database in ${dataDir}/ (DATA_DIR, resolved from the working directory); point DATA_DIR at the server's data folder, or pass --init to create a new database there`, { expose: true });
  }
  const releaseLock = dataDir ? await lockDataDir(dataDir, 'dataDir' in options ? options.onLockCompromised : undefined) : async () => undefined;
  // The app's socket lives in a folder only this user may enter (mkdtemp makes it 0700), removed on close.
  const socketDir = await mkdtemp(path.join(tmpdir(), 'connect-iam-db-'));
  const socketPath = path.join(socketDir, `.s.PGSQL.${EMBEDDED_SOCKET_PORT}`);
  const onWorkerExit =
    options.onWorkerExit ??
    ((error: Error) => {
      throw error;
    });
  let worker: Worker | undefined;
  let closing = false;
  const cleanUp = async () => {
    await rm(socketDir, { recursive: true, force: true });
    await releaseLock();
  };
  try {
    const [source, wasm, script] = await Promise.all([workerSource(dataDir), pgliteWasmModule(), embeddedWorkerScript()]);
    const data: EmbeddedWorkerData = { ...source, postgresSettings: EMBEDDED_POSTGRES_SETTINGS, socketPath, idleInTransactionTimeoutSeconds: 30, wasmModule: wasm };
    worker = new Worker(script, { workerData: data });
    await workerReady(worker);
  } catch (error) {
    await worker?.terminate();
    await cleanUp();
    throw error;
  }
  const thread = worker;
  // An unreferenced worker does not keep the process alive; the pool's connections decide that, as with a server.
  thread.unref();
  const { request, gone } = requester(thread);
  thread.on('error', (error) => gone(error));
  thread.once('exit', (code) => {
    const error = new Error(`the embedded database worker ended${closing ? '' : ' unexpectedly'} (exit code ${code})`);
    gone(error);
    if (!closing) onWorkerExit(error);
  });

  const close = async () => {
    try {
      closing = true;
      await request({ op: 'close' }).catch(() => undefined);
      await thread.terminate();
    } finally {
      await cleanUp();
    }
  };
  let database: Database;
  try {
    const url = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}&port=${EMBEDDED_SOCKET_PORT}`;
    // Waits are bounded generously: every connection queues behind the others' statements in the one backend.
    database = await openPostgresDatabase(
      { url, poolSize: EMBEDDED_POOL_SIZE, connectTimeoutSeconds: 30, statementTimeoutSeconds: 30, idleInTransactionTimeoutSeconds: 30 },
      { kind: 'pglite', afterClose: close },
    );
  } catch (error) {
    await close();
    throw error;
  }
  states.set(database, { dataDir, socketPath, request, worker: thread });
  return database;
}
