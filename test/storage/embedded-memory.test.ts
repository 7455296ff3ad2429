import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../storage/index.js';
import { usingPostgresServer } from '../support/database.js';

/** This process's resident memory, in MiB (`/proc/self/status` VmRSS). */
const rssMiB = () => Number(readFileSync('/proc/self/status', 'utf8').match(/^VmRSS:\s+(\d+)/m)![1]) / 1024;

const sharedBuffers = async (database: Database) => ((await database.db.execute(sql`show shared_buffers`)) as unknown as { rows: { shared_buffers: string }[] }).rows[0]!.shared_buffers;

const SLOW = { timeout: 60_000 };

describe.skipIf(usingPostgresServer)('the embedded database keeps its memory small', () => {
  let dataDir: string;
  let database: Database | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ciam-memory-'));
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('creates a new data folder in a child process, so this process grows by far less than initdb takes (about 650 MB)', SLOW, async () => {
    const before = rssMiB();
    database = await openDatabase({ dataDir });
    const grown = rssMiB() - before;
    expect(grown).toBeLessThan(350);
    expect(await readdir(dataDir)).not.toContain('pgdata.creating');
    expect(await readFile(path.join(dataDir, 'pgdata', 'PG_VERSION'), 'utf8')).toMatch(/^\d+/);
  });

  it('runs with 16 MB of shared buffers, also on a folder whose postgresql.conf asks for 128 MB, and in memory', SLOW, async () => {
    database = await openDatabase({ dataDir });
    expect(await sharedBuffers(database)).toBe('16MB');
    await database.close();
    const conf = path.join(dataDir, 'pgdata', 'postgresql.conf');
    await writeFile(conf, (await readFile(conf, 'utf8')).replace(/^shared_buffers = \S+/m, 'shared_buffers = 128MB'));
    expect(await readFile(conf, 'utf8')).toMatch(/^shared_buffers = 128MB/m);
    database = await openDatabase({ dataDir });
    expect(await sharedBuffers(database)).toBe('16MB');
    const inMemory = await openDatabase({ memory: true });
    try {
      expect(await sharedBuffers(inMemory)).toBe('16MB');
    } finally {
      await inMemory.close();
    }
  });
});
