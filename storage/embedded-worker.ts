/**
 * The embedded PostgreSQL's own thread: a `worker_threads` worker that owns PGlite (in memory, or on disk at
 * `<dataDir>/pgdata`) and serves it over the PostgreSQL wire protocol on unix sockets, so the app's event loop
 * never runs the database and the app talks to it with `pg`, as to a PostgreSQL server.
 *
 * Started by embedded-database.ts (see {@link EmbeddedWorkerData}); answers {@link EmbeddedWorkerRequest}s with
 * {@link EmbeddedWorkerReply}s. Every socket it serves shares one {@link SocketSessionQueue}, so the
 * connections of the app's pool and the operator CLI's see each other's transactions as atomic, as two
 * PostgreSQL sessions would. It imports only PGlite, pglite-socket and socket-session-queue.ts, so that it
 * starts quickly in a fresh thread; the main thread prepares the data folder (storage/embedded-initdb.ts).
 */
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { SocketSessionQueue } from './socket-session-queue.js';

/** What the worker is started with. */
export interface EmbeddedWorkerData {
  /** Absolute path of an existing PostgreSQL data folder (the caller holds its folder lock); null: in memory, from `template`. */
  pgdata: string | null;
  /** In memory: a tar of a fresh data folder to start from (storage/embedded-initdb.ts `freshDataFolderTemplate`). */
  template: Blob | null;
  /** PostgreSQL settings (`name=value`) given on PGlite's command line (storage/embedded-initdb.ts `EMBEDDED_POSTGRES_SETTINGS`). */
  postgresSettings: string[];
  /** The app's socket: absolute path of the file to listen on (in a private folder). */
  socketPath: string;
  /** Seconds one of the app's connections may stay idle inside a transaction before it is closed and rolled back. */
  idleInTransactionTimeoutSeconds: number;
  /** PGlite's `pglite.wasm`, compiled once per process and shared by its workers (compiling it costs about a second of CPU). */
  wasmModule: WebAssembly.Module;
}

/** Options of one served socket. */
export interface ServeSocketOptions {
  /** Absolute path of the socket file; a file left there is replaced. */
  socketPath: string;
  /** Simultaneous connections; more are refused with SQLSTATE 53300. */
  maxConnections: number;
  /** Seconds a connection may stay idle inside a transaction before it is closed and rolled back. */
  idleInTransactionTimeoutSeconds: number;
}

/** Requests of the main thread, each answered by a reply with the same `id`. */
export type EmbeddedWorkerRequest =
  | { id: number; op: 'serve'; options: ServeSocketOptions }
  | { id: number; op: 'unserve'; socketPath: string }
  /** Stops every socket (rolling back open transactions) and closes PGlite, which writes everything to disk. */
  | { id: number; op: 'close' };

/** `ready` once PGlite runs and the app's socket listens (or `failed` instead); then one reply per request. */
export type EmbeddedWorkerReply =
  | { op: 'ready' }
  | { op: 'failed'; message: string; stack?: string }
  | { id: number; ok: true }
  | { id: number; ok: false; message: string };

/** A FATAL ErrorResponse, so `pg` reports a readable reason instead of a dropped connection. */
function fatal(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** Starts PGlite on the data folder, or in memory from the template: never initdb, which would leave this process 600 MB larger for good. */
function startPglite(data: EmbeddedWorkerData): Promise<PGlite> {
  // As storage/embedded-initdb.ts `embeddedStartParams`, which this thread does not import.
  const startParams = [...PGlite.defaultStartParams, ...data.postgresSettings.flatMap((s) => ['-c', s])];
  const options = { startParams, pgliteWasmModule: data.wasmModule };
  if (data.pgdata) return PGlite.create(data.pgdata, options);
  if (!data.template) throw new Error('an in-memory embedded database needs a template data folder');
  return PGlite.create({ ...options, loadDataDir: data.template });
}

/** One listening socket and its connections. */
class SocketListener {
  readonly #server: net.Server;
  readonly #handlers = new Map<number, PGLiteSocketHandler>();
  readonly #options: ServeSocketOptions;
  #closed: Promise<void> | undefined;

  constructor(queue: SocketSessionQueue, options: ServeSocketOptions) {
    this.#options = options;
    const idleMs = options.idleInTransactionTimeoutSeconds * 1000;
    this.#server = net.createServer((socket) => {
      if (this.#handlers.size >= options.maxConnections) {
        socket.end(fatal('53300', `too many connections to the embedded database (max ${options.maxConnections})`));
        return;
      }
      // The handler's option type names pglite-socket's private queue class; ours has the same methods.
      const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as PGLiteSocketHandlerOptions['queryQueue'], closeOnDetach: true });
      this.#handlers.set(handler.handlerId, handler);
      queue.setIdleTimeout(handler.handlerId, idleMs);
      const forget = () => this.#handlers.delete(handler.handlerId);
      handler.addEventListener('close', forget);
      handler.addEventListener('error', forget);
      handler.attach(socket).catch(() => socket.destroy());
    });
  }

  /** Detaches the handler of a connection idle too long in a transaction (rolling it back); false when not ours. */
  timeOut(handlerId: number): boolean {
    const handler = this.#handlers.get(handlerId);
    if (handler) void handler.detach(true);
    return handler !== undefined;
  }

  /** Listens, replacing a socket file left by a crashed earlier owner (the caller holds the folder lock), owner-only (0600). */
  async listen(): Promise<void> {
    await rm(this.#options.socketPath, { force: true });
    await new Promise<void>((listening, failed) => {
      this.#server.once('error', failed);
      this.#server.listen(this.#options.socketPath, () => listening());
    });
    await chmod(this.#options.socketPath, 0o600);
  }

  /** Stops accepting, closes connections (rolling back their open transactions) and removes the file. Idempotent. */
  close(): Promise<void> {
    return (this.#closed ??= (async () => {
      const stopped = new Promise<void>((done) => this.#server.close(() => done()));
      await Promise.all([...this.#handlers.values()].map((handler) => handler.detach(true)));
      this.#handlers.clear();
      await stopped;
      await rm(this.#options.socketPath, { force: true });
    })());
  }
}

/** The worker's body: start, serve the app's socket, then answer the main thread until `close`. */
async function main(port: NonNullable<typeof parentPort>, data: EmbeddedWorkerData): Promise<void> {
  const pglite = await startPglite(data);
  const listeners = new Map<string, SocketListener>();
  const queue = new SocketSessionQueue(pglite, {
    idleTimeoutMs: data.idleInTransactionTimeoutSeconds * 1000,
    onIdleTimeout: (handlerId) => [...listeners.values()].some((listener) => listener.timeOut(handlerId)),
  });
  const serve = async (options: ServeSocketOptions) => {
    if (listeners.has(options.socketPath)) return;
    const listener = new SocketListener(queue, options);
    await listener.listen();
    listeners.set(options.socketPath, listener);
  };
  await serve({ socketPath: data.socketPath, maxConnections: 64, idleInTransactionTimeoutSeconds: data.idleInTransactionTimeoutSeconds });

  port.on('message', (request: EmbeddedWorkerRequest) => {
    void (async () => {
      if (request.op === 'serve') await serve(request.options);
      else if (request.op === 'unserve') {
        await listeners.get(request.socketPath)?.close();
        listeners.delete(request.socketPath);
      } else {
        await Promise.all([...listeners.values()].map((listener) => listener.close()));
        listeners.clear();
        if (!pglite.closed) await pglite.close();
      }
    })().then(
      () => port.postMessage({ id: request.id, ok: true } satisfies EmbeddedWorkerReply),
      (error: unknown) => port.postMessage({ id: request.id, ok: false, message: (error as Error).message } satisfies EmbeddedWorkerReply),
    ).finally(() => {
      if (request.op === 'close') port.close(); // nothing else keeps the thread alive: it ends
    });
  });
  port.postMessage({ op: 'ready' } satisfies EmbeddedWorkerReply);
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as EmbeddedWorkerData).catch((error: unknown) => {
    port.postMessage({ op: 'failed', message: (error as Error).message, stack: (error as Error).stack } satisfies EmbeddedWorkerReply);
    port.close();
  });
}
