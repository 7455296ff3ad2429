/**
 * Lets the operator CLI reach the embedded database while the server owns it: the database's worker thread
 * (storage/embedded-worker.ts) also serves it on a unix socket at `<dataDir>/.s.PGSQL.5432` (PostgreSQL's own
 * naming, so `pg` connects with `{ host: <absolute dataDir>, port: 5432 }`). The CLI's connections share the
 * worker's queue with the app's pool, so their transactions and the server's are atomic with respect to each
 * other (storage/socket-session-queue.ts).
 *
 * PGlite asks for no password: the socket file is made owner-only (0600), so only the user running the
 * server can connect.
 */
import path from 'node:path';
import type { Database } from './database.js';
import { EMBEDDED_SOCKET_PORT, embeddedStateOf } from './embedded-database.js';

export { EMBEDDED_SOCKET_PORT } from './embedded-database.js';

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
  await state.request({
    op: 'serve',
    options: { socketPath, maxConnections: options.maxConnections ?? 4, idleInTransactionTimeoutSeconds: options.idleInTransactionTimeoutSeconds ?? 30 },
  });
  let closed: Promise<void> | undefined;
  // After database.close() the worker has already removed the socket: nothing is left to stop.
  const close = () => (closed ??= state.request({ op: 'unserve', socketPath }).catch(() => undefined));
  return { path: socketPath, close };
}
