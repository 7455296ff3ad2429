import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../../lib/index.js';
import { embeddedStateOf } from '../../storage/embedded-database.js';
import { createDatabaseProbe, createIdentityStores, EmbeddedDatabaseInUseError, openDatabase, openDatabaseForCli, serveEmbeddedDatabase, type Database } from '../../storage/index.js';
import { compiledEntry } from '../support/compiled-entry.js';
import { usingPostgresServer } from '../support/database.js';


/** Runs embedded-cli-child.ts (bundled, as test/support/cli.ts runs the CLI) in another process, from another working directory. */
async function inAnotherProcess(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [await compiledEntry('test/storage/embedded-cli-child.ts'), ...args], { cwd: tmpdir() });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Generous: these tests start processes and wait out lock and idle timeouts. */
const SLOW = { timeout: 60_000 };

/** Resolves to 'pending' when `promise` has not settled within `ms`. */
const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

const values = async (database: Database) => ((await database.db.execute(sql`select v from scratch order by v`)) as unknown as { rows: { v: string }[] }).rows.map((r) => r.v);

describe.skipIf(usingPostgresServer)('the embedded database belongs to one process', () => {
  let dataDir: string;
  let server: Database | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ciam-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('refuses a second opener of the folder, in this process or another, with an error naming the holder', SLOW, async () => {
    server = await openDatabase({ dataDir });
    const error = await openDatabase({ dataDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddedDatabaseInUseError);
    expect(error).toMatchObject({ code: 'unavailable', pid: process.pid });
    expect((error as Error).message).toBe(`the embedded database in ${dataDir}/ is in use by another connect-iam process (pid ${process.pid}); stop it, or use the CLI, which connects through that process`);
    expect(await inAnotherProcess('open', dataDir)).toEqual({ error: (error as Error).message, code: 'unavailable' });
    await server.close();
    server = await openDatabase({ dataDir });
    expect(server.kind).toBe('pglite');
  });

  it('lets the CLI in another process read and write through the socket of the server holding the database', SLOW, async () => {
    server = await openDatabase({ dataDir });
    await serveEmbeddedDatabase(server, dataDir);
    const stores = createIdentityStores(server);
    await stores.organizations.create({ id: newId(), name: 'Made by the server', participantIds: ['SERVER1'], createdAt: new Date() });
    expect(await inAnotherProcess('cli', dataDir, 'Made by the CLI')).toEqual({ via: 'socket', names: ['Made by the CLI', 'Made by the server'] });
    expect((await stores.organizations.findByReference('MADEBYTHECLI'))?.name).toBe('Made by the CLI');
  });

  it('opens the folder itself for the CLI when no server holds it, and lets a server open it afterwards', SLOW, async () => {
    expect(await inAnotherProcess('cli', dataDir, 'Offline change')).toEqual({ via: 'embedded', names: ['Offline change'] });
    server = await openDatabase({ dataDir });
    expect((await createIdentityStores(server).organizations.list()).map((o) => o.name)).toEqual(['Offline change']);
  });

  it('keeps a server transaction atomic while a CLI connection writes', SLOW, async () => {
    server = await openDatabase({ dataDir });
    await serveEmbeddedDatabase(server, dataDir);
    await server.db.execute(sql`create table scratch (v text)`);
    const cli = await openDatabaseForCli({ dataDir });
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    const serverTransaction = server.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into scratch values ('server')`);
        await held;
        tx.rollback();
      })
      .catch(() => 'rolled back');
    await new Promise((r) => setTimeout(r, 50));
    const cliWrite = Promise.resolve(cli.db.execute(sql`insert into scratch values ('cli')`));
    expect(await within(cliWrite, 300)).toBe('pending');
    finish();
    expect(await serverTransaction).toBe('rolled back');
    await cliWrite;
    expect(await values(server)).toEqual(['cli']);
    await cli.close();
  });

  it('keeps a CLI transaction atomic while the server writes, and ends one left idle past the timeout', SLOW, async () => {
    server = await openDatabase({ dataDir });
    await serveEmbeddedDatabase(server, dataDir, { idleInTransactionTimeoutSeconds: 1 });
    await server.db.execute(sql`create table scratch (v text)`);
    const client = new pg.Client({ host: dataDir, port: 5432, user: 'postgres', database: 'postgres' });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('begin');
    await client.query(`insert into scratch values ('cli, rolled back')`);
    const serverWrite = Promise.resolve(server.db.execute(sql`insert into scratch values ('server')`));
    expect(await within(serverWrite, 300)).toBe('pending');
    await client.query('rollback');
    await serverWrite;
    expect(await values(server)).toEqual(['server']);

    await client.query('begin');
    await client.query(`insert into scratch values ('cli, abandoned')`);
    const started = Date.now();
    await server.db.execute(sql`insert into scratch values ('server, after the timeout')`);
    expect(Date.now() - started).toBeGreaterThan(800);
    expect(await values(server)).toEqual(['server', 'server, after the timeout']);
    await expect(client.query('select 1')).rejects.toThrow();
  });

  it('answers each of many interleaved queries from two CLI connections and the server with its own result', SLOW, async () => {
    server = await openDatabase({ dataDir });
    await serveEmbeddedDatabase(server, dataDir);
    const clients = [0, 1].map(() => new pg.Client({ host: dataDir, port: 5432, user: 'postgres', database: 'postgres' }));
    await Promise.all(clients.map((c) => c.connect()));
    const viaSocket = clients.flatMap((c, i) => Array.from({ length: 40 }, (_, n) => c.query('select $1::int as n', [i * 1000 + n]).then((r) => r.rows[0].n === i * 1000 + n)));
    const inProcess = Array.from({ length: 40 }, (_, n) => Promise.resolve(server!.db.execute(sql`select ${5000 + n}::int as n`)).then((r) => (r as unknown as { rows: { n: number }[] }).rows[0]!.n === 5000 + n));
    const answers = await Promise.all([...viaSocket, ...inProcess]);
    expect(answers.filter(Boolean)).toHaveLength(120);
    await Promise.all(clients.map((c) => c.end()));
  });

  it('takes over the folder of a process that died holding it', SLOW, async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await mkdir(path.join(dataDir, 'connect-iam.lock'));
    await writeFile(path.join(dataDir, 'connect-iam.pid'), JSON.stringify({ pid: dead, hostname: hostname(), startedAt: new Date().toISOString() }));
    server = await openDatabase({ dataDir });
    expect(server.kind).toBe('pglite');
  });
});

describe.skipIf(usingPostgresServer)('the embedded database runs in a worker thread of its own', () => {
  let database: Database | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  }, 60_000);

  it('keeps the event loop free while a long statement runs, and answers through pg as a server does', SLOW, async () => {
    database = await openDatabase({ memory: true });
    let last = performance.now();
    let longestGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    const result = (await database.db.execute(sql`select count(*)::int as n from generate_series(1, 3000000)`)) as unknown as { rows: { n: number }[]; command: string };
    const took = performance.now() - started;
    clearInterval(ticker);
    expect(result.rows).toEqual([{ n: 3_000_000 }]);
    expect(result.command).toBe('SELECT'); // pg's result shape: the node-postgres driver, as on a server
    expect(took).toBeGreaterThan(150);
    // In-process PGlite held the event loop for the whole statement; a worker leaves it to timers and requests.
    expect(longestGap).toBeLessThan(took / 2);
  });

  it("keeps each connection's named prepared statements apart, though PGlite has one session for all", SLOW, async () => {
    database = await openDatabase({ memory: true });
    const pool = database.rateLimiterClient.storeClient;
    // pg prepares a named statement once per connection: 24 at once use several pooled connections, each preparing it.
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => pool.query({ name: 'hot-query', text: 'select $1::int as n', values: [i] })));
    expect(answers.map((a) => a.rows[0]!.n)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    // Another connection may give the same name to another statement, as in its own PostgreSQL session.
    const client = new pg.Client({ host: path.dirname(embeddedStateOf(database)!.socketPath), port: 5432, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      expect((await client.query({ name: 'hot-query', text: "select 'mine' as n" })).rows).toEqual([{ n: 'mine' }]);
      expect((await client.query({ name: 'hot-query', text: "select 'mine' as n" })).rows).toEqual([{ n: 'mine' }]);
    } finally {
      await client.end();
    }
    expect((await pool.query({ name: 'hot-query', text: 'select $1::int as n', values: [7] })).rows).toEqual([{ n: 7 }]);
  });

  it('fails queries at once and reports the worker when it ends unexpectedly, instead of hanging', SLOW, async () => {
    const exits: Error[] = [];
    database = await openDatabase({ memory: true, onWorkerExit: (error) => exits.push(error) });
    const probe = createDatabaseProbe(database, { timeoutSeconds: 1 });
    expect(await probe.check()).toMatchObject({ ok: true, database: 'ok', migrations: 'ok' });
    await embeddedStateOf(database)!.worker.terminate();
    const failed = await within(Promise.resolve(database.db.execute(sql`select 1`)).then(() => 'answered', () => 'failed'), 10_000);
    expect(failed).toBe('failed');
    expect(exits.map((e) => e.message)).toEqual([expect.stringMatching(/^the embedded database worker ended unexpectedly \(exit code \d+\)$/)]);
    expect(await probe.check()).toMatchObject({ ok: false, database: 'unreachable' });
    await probe.close();
  });

  it('writes everything to disk on close, and the next process to open the folder reads it', SLOW, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ciam-flush-'));
    try {
      database = await openDatabase({ dataDir });
      await database.db.execute(sql`create table scratch (v text)`);
      await database.db.execute(sql`insert into scratch values ('written before close')`);
      await database.close();
      database = undefined;
      expect(await readdir(dataDir)).toEqual(['pgdata']); // lock, pid file and CLI socket gone
      database = await openDatabase({ dataDir });
      expect(await values(database)).toEqual(['written before close']);
    } finally {
      await database?.close();
      database = undefined;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
