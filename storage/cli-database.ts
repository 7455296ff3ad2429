/**
 * How the operator CLI reaches the database: the PostgreSQL server when a URL is configured; otherwise the
 * embedded database, either through the running server's socket (when a live server holds the folder) or
 * by opening it itself (taking the folder lock, so a server started meanwhile refuses to start).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DomainError } from '../lib/index.js';
import { openDatabase, type Database } from './database.js';
import { EMBEDDED_SOCKET_PORT, embeddedSocketPath } from './embedded-socket.js';
import { isDataDirLocked, readLockOwner } from './folder-lock.js';
import { openPostgresDatabase } from './postgres-database.js';

/** A database opened for the CLI, saying how it was reached. */
export interface CliDatabase extends Database {
  /** `server`: PostgreSQL at the URL; `socket`: the embedded database through the running server; `embedded`: opened directly. */
  via: 'server' | 'socket' | 'embedded';
}

/**
 * Opens the database for one CLI command. Through the socket, `kind` is `pglite` (the engine) and the
 * connection pool has one connection, as the embedded database has one backend; the driver is `pg` in every
 * case, as for the server itself.
 * Unless `init` is true, an existing database is required: a CLI pointed at the wrong folder or server must
 * not quietly create an empty one and report success.
 * @param options.dataDir - resolved against the working directory (give config's absolute `dataDir`).
 * @throws DomainError `not_found` without `init` when there is no database (naming the absolute folder, or the
 *   server URL without its password); `unavailable` when a live process holds `dataDir` but serves no socket,
 *   or the socket refuses the connection; EmbeddedDatabaseInUseError when a server took the folder between check and open.
 */
export async function openDatabaseForCli(options: { url?: string | undefined; dataDir: string; init?: boolean }): Promise<CliDatabase> {
  const mustExist = !options.init;
  if (options.url) return Object.assign(await openDatabase({ url: options.url, mustExist }), { via: 'server' as const });
  const dataDir = path.resolve(options.dataDir);
  if (!(await isDataDirLocked(dataDir))) return Object.assign(await openDatabase({ dataDir, mustExist }), { via: 'embedded' as const });

  if (!existsSync(embeddedSocketPath(dataDir))) {
    const owner = await readLockOwner(dataDir);
    throw new DomainError('unavailable', `the embedded database in ${dataDir}/ is in use by pid ${owner?.pid ?? 'unknown'}, which serves no CLI socket; stop it and retry`, { expose: true });
  }
  const url = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(dataDir)}&port=${EMBEDDED_SOCKET_PORT}`;
  try {
    // Statements wait their turn behind the server's in the one backend: bounds as generous as the server's own pool.
    const database = await openPostgresDatabase({ url, poolSize: 1, connectTimeoutSeconds: 5, statementTimeoutSeconds: 30, idleInTransactionTimeoutSeconds: 30 }, { kind: 'pglite' });
    return Object.assign(database, { via: 'socket' as const });
  } catch (error) {
    throw new DomainError('unavailable', `could not use the embedded database through ${embeddedSocketPath(dataDir)}: ${(error as Error).message}`, { expose: true, cause: error });
  }
}
