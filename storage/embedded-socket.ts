/**
 * Lets the operator CLI reach the embedded database while the server owns it: the server serves its
 * PGlite over a unix socket at `<dataDir>/.s.PGSQL.5432` (PostgreSQL's own naming, so `pg` connects with
 * `{ host: <absolute dataDir>, port: 5432 }`), using pglite-socket's protocol handler and our
 * {@link SocketSessionQueue}, which keeps socket and in-process transactions atomic with respect to each other.
 *
 * PGlite asks for no password: the socket file is made owner-only (0600), so only the user running the
 * server can connect.
 */
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import type { Database } from './database.js';
import { embeddedStateOf } from './embedded-database.js';
import { SocketSessionQueue } from './socket-session-queue.js';

/** The port number in the socket file name (`.s.PGSQL.<port>`), as `pg` expects it. */
export const EMBEDDED_SOCKET_PORT = 5432;

/** Absolute path of the CLI socket of `dataDir`. */
export function embeddedSocketPath(dataDir: string): string {
  return path.join(path.resolve(dataDir), `.s.PGSQL.${EMBEDDED_SOCKET_PORT}`);
}

/** Options of {@link serveEmbeddedDatabase}. */
export interface ServeEmbeddedOptions {
  /** Simultaneous CLI connections (default 4); more are refused with SQLSTATE 53300. */
  maxConnections?: number;
  /** Seconds a connection may keep a transaction open while idle before it is closed and rolled back (default 30). */
  idleInTransactionTimeoutSeconds?: number;
}

/** A running CLI socket. */
export interface EmbeddedDatabaseSocket {
  /** Absolute path of the socket file. */
  path: string;
  /** Stops accepting, closes connections (rolling back their open transactions) and removes the file. Idempotent. */
  close(): Promise<void>;
}

/** A FATAL ErrorResponse, so `pg` reports a readable reason instead of a dropped connection. */
function fatal(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/**
 * Serves `database` (embedded, opened with `{ dataDir }`) on `<dataDir>/.s.PGSQL.5432` for the CLI.
 * Stopped by the returned `close()` or by `database.close()`.
 * @throws Error when `database` is not the embedded database of `dataDir`, or the socket path is longer
 *   than the 107 bytes a unix socket allows (move the data folder to a shorter path).
 */
export async function serveEmbeddedDatabase(database: Database, dataDir: string, options: ServeEmbeddedOptions = {}): Promise<EmbeddedDatabaseSocket> {
  const state = embeddedStateOf(database);
  const directory = path.resolve(dataDir);
  if (!state || state.dataDir !== directory) throw new Error(`serveEmbeddedDatabase needs the embedded database opened with { dataDir: '${dataDir}' }`);
  const socketPath = embeddedSocketPath(directory);
  if (Buffer.byteLength(socketPath) > 107) throw new Error(`the socket path ${socketPath} is too long for a unix socket (max 107 bytes); use a shorter DATA_DIR`);

  const maxConnections = options.maxConnections ?? 4;
  const handlers = new Map<number, PGLiteSocketHandler>();
  const queue = new SocketSessionQueue(state.pglite, {
    idleTimeoutMs: (options.idleInTransactionTimeoutSeconds ?? 30) * 1000,
    onIdleTimeout: (handlerId) => void handlers.get(handlerId)?.detach(true),
  });
  const server = net.createServer((socket) => {
    if (handlers.size >= maxConnections) {
      socket.end(fatal('53300', `too many connections to the embedded database (max ${maxConnections})`));
      return;
    }
    // The handler's option type names pglite-socket's private queue class; ours has the same methods.
    const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as PGLiteSocketHandlerOptions['queryQueue'], closeOnDetach: true });
    handlers.set(handler.handlerId, handler);
    const forget = () => handlers.delete(handler.handlerId);
    handler.addEventListener('close', forget);
    handler.addEventListener('error', forget);
    handler.attach(socket).catch(() => socket.destroy());
  });

  // We hold the folder lock, so a socket file left here belongs to a crashed earlier owner.
  await rm(socketPath, { force: true });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(socketPath, () => listening());
  });
  await chmod(socketPath, 0o600);

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      const stopped = new Promise<void>((done) => server.close(() => done()));
      await Promise.all([...handlers.values()].map((handler) => handler.detach(true)));
      handlers.clear();
      await stopped;
      await rm(socketPath, { force: true });
    })());
  state.beforeClose.push(close);
  return { path: socketPath, close };
}
