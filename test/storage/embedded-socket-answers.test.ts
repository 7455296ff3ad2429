/**
 * The embedded database's socket answers each connection with its own results only, while other connections
 * come and go. When a connection ends, the worker's queue closes the statements it prepared (and rolls back a
 * transaction it left open); PGlite's `execProtocolRaw` writes such an answer to the output callback of the
 * last `execProtocolRawStream` call, which is another connection's socket. That connection then took the stray
 * ReadyForQuery for the end of its next query (no rows) and every later query on it got the answer of the one
 * before: in the bench a refresh token's rotation read "nothing consumed", the grant was revoked as a reused
 * token, and the token was "not found" from then on (storage/socket-session-queue.ts).
 *
 * Runs on the embedded database in both projects: the PostgreSQL server has no such queue.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedStateOf } from '../../storage/embedded-database.js';
import { EMBEDDED_SOCKET_PORT, openDatabase, type Database } from '../../storage/index.js';
import { consumeAndSaveModels, findModelById, upsertModel } from '../../storage/oidc-models.js';
import type { StoredModel } from '../../storage/oidc-model-secrets.js';

let database: Database;
let connect: () => Promise<pg.Client>;

beforeAll(async () => {
  database = await openDatabase({ memory: true });
  const host = path.dirname(embeddedStateOf(database)!.socketPath);
  connect = async () => {
    const client = new pg.Client({ host, port: EMBEDDED_SOCKET_PORT, user: 'postgres', database: 'postgres' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
});
afterAll(async () => {
  await database?.close();
});

/**
 * Connections that end as the app's pool ends idle ones (having prepared a named statement) or as a client
 * that dies inside a transaction; `rounds` of each, one after the other.
 */
async function comeAndGo(rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const prepared = await connect();
    await prepared.query({ name: 'prepared-then-closed', text: 'select $1::int as one', values: [1] });
    await prepared.end();
    const inTransaction = await connect();
    await inTransaction.query('begin');
    await inTransaction.query('select 1');
    (inTransaction as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await inTransaction.end().catch(() => undefined);
  }
}

describe('the embedded database socket', () => {
  it('answers a busy connection with its own results while other connections prepare statements and close', async () => {
    const busy = await connect();
    const wrong: string[] = [];
    let stop = false;
    const asking = (async () => {
      for (let n = 0; !stop && wrong.length < 5; n++) {
        try {
          const { rows } = await busy.query<{ n: number }>('select $1::int as n', [n]);
          if (rows.length !== 1 || rows[0]!.n !== n) wrong.push(`asked ${n}, got ${JSON.stringify(rows)}`);
        } catch (error) {
          wrong.push(`asked ${n}, failed: ${(error as Error).message}`);
          return;
        }
      }
    })();
    await comeAndGo(30);
    stop = true;
    await asking;
    await busy.end().catch(() => undefined);
    expect(wrong).toEqual([]);
  });

  it('keeps refresh-token rotation exact on the app pool while other connections come and go', async () => {
    const { db } = database;
    const workers = await Promise.all(
      [0, 1, 2, 3].map(async (w) => {
        const grantId = `grant-${randomUUID()}`;
        const first: StoredModel = { id: `rt-${w}-${randomUUID()}`, payload: { grantId, kind: 'RefreshToken' }, userCode: null };
        await upsertModel(db, 'RefreshToken', first, 3600, new Date());
        return { grantId, id: first.id, rotations: 0 };
      }),
    );
    const problems: string[] = [];
    let stop = false;
    const rotating = workers.map(async (worker) => {
      while (!stop && problems.length < 5) {
        const found = await findModelById(db, 'RefreshToken', [worker.id], new Date(), worker.id);
        if (found?.id !== worker.id || found.payload.consumed !== undefined) {
          problems.push(`${worker.id}: found ${JSON.stringify(found?.id)} consumed ${String(found?.payload.consumed)}`);
          return;
        }
        const next: StoredModel = { id: `rt-${randomUUID()}`, payload: { grantId: worker.grantId, kind: 'RefreshToken', rotations: ++worker.rotations }, userCode: null };
        const now = new Date();
        const result = await consumeAndSaveModels(db, 'RefreshToken', [worker.id], [{ kind: 'RefreshToken', model: next, expiresInSeconds: 3600, now }], now);
        if (!result.consumed) {
          problems.push(`${worker.id}: its rotation consumed nothing`);
          return;
        }
        worker.id = next.id;
      }
    });
    await comeAndGo(15);
    stop = true;
    await Promise.all(rotating);
    expect(problems).toEqual([]);
    expect(workers.every((w) => w.rotations > 0)).toBe(true);
  });
});
