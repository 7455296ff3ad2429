/**
 * The embedded database belongs to one process: PGlite does not stop two processes from opening the same
 * folder, and then silently loses writes. This guards `<dataDir>` with proper-lockfile (an atomic `mkdir`
 * lock whose mtime is refreshed every 5 seconds; a lock not refreshed for {@link LOCK_STALE_SECONDS} is
 * stale and may be taken over, so a crashed process never blocks the folder for longer than that).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { DomainError } from '../lib/index.js';

/** A lock whose heartbeat stopped this long ago (seconds) belongs to a dead process and is taken over. */
export const LOCK_STALE_SECONDS = 15;

/** Who holds a data folder, as written in `<dataDir>/connect-iam.pid` by the holder. */
export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

/**
 * Another live process holds the embedded database's folder. DomainError `unavailable` (503).
 * `pid` is the holder's process id when known.
 */
export class EmbeddedDatabaseInUseError extends DomainError {
  readonly pid: number | null;
  readonly dataDir: string;

  constructor(dataDir: string, owner: LockOwner | null, cause?: unknown) {
    const who = owner ? `pid ${owner.pid}${owner.hostname === hostname() ? '' : ` on ${owner.hostname}`}` : 'pid unknown';
    super(
      'unavailable',
      `the embedded database in ${dataDir}/ is in use by another connect-iam process (${who}); stop it, or use the CLI, which connects through that process`,
      { expose: true, cause },
    );
    this.name = 'EmbeddedDatabaseInUseError';
    this.pid = owner?.pid ?? null;
    this.dataDir = dataDir;
  }
}

const lockPath = (dataDir: string) => path.join(dataDir, 'connect-iam.lock');
const ownerPath = (dataDir: string) => path.join(dataDir, 'connect-iam.pid');
const lockOptions = (dataDir: string) => ({ lockfilePath: lockPath(dataDir), stale: LOCK_STALE_SECONDS * 1000, realpath: false });

/** Reads the pid file of `dataDir`; null when absent or unreadable. */
export async function readLockOwner(dataDir: string): Promise<LockOwner | null> {
  try {
    return JSON.parse(await readFile(ownerPath(dataDir), 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

/** True when a live (not stale) lock is held on `dataDir`, by any process including this one. */
export async function isDataDirLocked(dataDir: string): Promise<boolean> {
  return lockfile.check(dataDir, lockOptions(dataDir));
}

function isDeadLocalProcess(owner: LockOwner | null): boolean {
  if (!owner || owner.hostname !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Stale threshold used only while the recorded holder is a dead process on this host (proper-lockfile's minimum). */
const DEAD_OWNER_STALE_MS = 5000;

/**
 * Takes the lock on `dataDir` (creating the folder) and writes the pid file. The lock's mtime is refreshed
 * every 2 seconds. When the recorded holder is a dead process on this host, retries each second, treating
 * the lock as stale after 5 seconds without refresh, for up to {@link LOCK_STALE_SECONDS}.
 * @returns release(): removes the pid file and the lock. Idempotent.
 * @throws EmbeddedDatabaseInUseError when a live process holds it.
 */
export async function lockDataDir(dataDir: string, onCompromised?: (error: Error) => void): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const options = { ...lockOptions(dataDir), update: 2000, ...(onCompromised ? { onCompromised } : {}) };
  const deadline = Date.now() + LOCK_STALE_SECONDS * 1000;
  let release: (() => Promise<void>) | undefined;
  let ownerDied = false;
  while (!release) {
    try {
      release = await lockfile.lock(dataDir, ownerDied ? { ...options, stale: DEAD_OWNER_STALE_MS } : options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const owner = await readLockOwner(dataDir);
      ownerDied = isDeadLocalProcess(owner);
      if (!ownerDied || Date.now() > deadline) throw new EmbeddedDatabaseInUseError(dataDir, owner, error);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  await writeFile(ownerPath(dataDir), JSON.stringify(owner));
  let released: Promise<void> | undefined;
  const releaseLock = release;
  return () =>
    (released ??= (async () => {
      await rm(ownerPath(dataDir), { force: true });
      await releaseLock().catch(() => undefined);
    })());
}
