/**
 * The query queue of the embedded database's sockets (storage/embedded-worker.ts serves the app's pool and the
 * operator CLI through it). It replaces pglite-socket's own queue, which does not keep connections apart:
 *
 * - pglite-socket runs each wire message under `PGlite.runExclusive` (the *query* mutex) only, and outside
 *   `BEGIN` it may switch connections between any two messages: one connection's statements then run inside
 *   another's transaction, and one connection's Parse/Bind/Execute could land between another's (they share
 *   PGlite's single unnamed statement). Also, PGlite's own `query`/`exec`/`transaction` hold the
 *   *transaction* mutex, so in-process work and socket work interleaved the same way (a CLI `ROLLBACK` undid
 *   server writes, reproduced with pglite-socket 0.2.17; test/storage/embedded-database.test.ts holds the
 *   fixed behaviour).
 *
 * Here a connection first takes PGlite's transaction mutex and keeps it for a whole exchange: until a Sync or
 * simple Query message leaves PGlite outside a transaction block. Other connections (and in-process work)
 * wait meanwhile, so each sees the others' transactions as atomic, exactly as PostgreSQL sessions would (PGlite
 * has one backend, so they are serialized rather than concurrent). A connection idle inside a transaction
 * longer than its timeout is closed and its transaction rolled back, so a stuck client cannot stall the others.
 *
 * An extended-protocol exchange (Parse, Bind, Describe, Execute, Close … Sync: what `pg` sends for each
 * parameterized statement) runs as one call into PGlite instead of one per message: the messages before the
 * Sync are held until it arrives. Measured with PGlite 0.5.14 on Node 20, a `select $1` then costs 0.5 ms of
 * PGlite's time instead of 1.7 ms (PGlite's own `query()` takes 1.8–2.3 ms).
 *
 * PGlite's one session also holds every connection's named prepared statements: names get a per-connection
 * prefix here, and a connection's statements are closed when it ends (storage/embedded-worker-statements.ts).
 *
 * Every call into PGlite goes through `execProtocolRawStream` with its own output callback, never
 * `execProtocolRaw`: PGlite keeps the callback of the last `execProtocolRawStream` call and `execProtocolRaw`
 * writes its answer there, so the answers of the statements run here for a connection that ended (ROLLBACK,
 * Sync, closing its statements) went to the socket of whichever connection ran last. Its client took the stray
 * ReadyForQuery for the end of its next query (no rows) and each later query on it got the answer of the one
 * before (reproduced with PGlite 0.5.14: the bench's refresh token lost, test/storage/embedded-socket-answers).
 *
 * Relies on `PGlite._runExclusiveTransaction` (public in its type declarations, underscore-named) and on
 * `execProtocolRawStream` sending a call's whole answer to that call's `onRawData`: re-check this file when
 * upgrading @electric-sql/pglite.
 */
import type { PGlite } from '@electric-sql/pglite';
import { closeStatements, scopeNames } from './embedded-worker-statements.js';

const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]);

/** A simple-protocol Query message ('Q'). */
function simpleQuery(sqlText: string): Uint8Array {
  const text = Buffer.from(`${sqlText}\0`, 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'latin1');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/**
 * Parse ('P'), Bind ('B'), Describe ('D'), Execute ('E') and Close ('C'): messages to which a client expects
 * no answer before it sends Sync or Flush, so they may wait for it.
 */
function mayWaitForSync(message: Uint8Array): boolean {
  const type = message[0];
  return type === 0x50 || type === 0x42 || type === 0x44 || type === 0x45 || type === 0x43;
}

/** Sync ('S'), simple Query ('Q'), Terminate ('X') or the startup message (no type byte, starts with 0). */
function endsExchange(message: Uint8Array): boolean {
  const type = message[0];
  return type === 0x53 || type === 0x51 || type === 0x58 || type === 0x00;
}

/** Options of {@link SocketSessionQueue}. */
export interface SocketSessionQueueOptions {
  /** Milliseconds a connection may hold the database idle (inside a transaction or exchange), unless {@link SocketSessionQueue.setIdleTimeout} gave it its own. */
  idleTimeoutMs: number;
  /** Called when a connection exceeded it; must close that connection (its handler detaches). */
  onIdleTimeout(handlerId: number): void;
}

/** The duck-typed queue `PGLiteSocketHandler` accepts as its `queryQueue`. */
export class SocketSessionQueue {
  readonly #db: PGlite;
  readonly #options: SocketSessionQueueOptions;
  #owner: number | null = null;
  #release: (() => void) | null = null;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #chains = new Map<number, Promise<number>>();
  readonly #cleared = new Set<number>();
  readonly #idleTimeouts = new Map<number, number>();
  /** Per connection: messages held until the Sync (or another message) that lets them run together. */
  readonly #held = new Map<number, Uint8Array[]>();
  /** Per connection: the (scoped) names of the statements it prepared, closed when it ends. */
  readonly #statements = new Map<number, Set<string>>();

  constructor(db: PGlite, options: SocketSessionQueueOptions) {
    this.#db = db;
    this.#options = options;
  }

  /**
   * Runs one wire message of a connection, in arrival order per connection, or holds it (see
   * {@link mayWaitForSync}) to run with the next. Resolves with the bytes answered (0 while held).
   */
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const previous = this.#chains.get(handlerId) ?? Promise.resolve(0);
    const run = previous.catch(() => 0).then(() => this.#run(handlerId, message, onData));
    this.#chains.set(handlerId, run);
    void run.catch(() => 0).finally(() => {
      if (this.#chains.get(handlerId) === run) this.#chains.delete(handlerId);
    });
    return run;
  }

  /** Gives one connection its own idle timeout, in milliseconds (forgotten when it closes). */
  setIdleTimeout(handlerId: number, ms: number): void {
    this.#idleTimeouts.set(handlerId, ms);
  }

  /** Rejects the connection's messages that have not started. */
  clearQueueForHandler(handlerId: number): void {
    this.#cleared.add(handlerId);
  }

  /** After a connection closed: aborts whatever it left open and gives the database back. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    await this.#chains.get(handlerId)?.catch(() => 0);
    this.#cleared.delete(handlerId);
    this.#idleTimeouts.delete(handlerId);
    this.#held.delete(handlerId);
    const statements = this.#statements.get(handlerId);
    this.#statements.delete(handlerId);
    const owner = this.#owner === handlerId;
    if (!owner) {
      if (!statements) return;
      await this.#take(handlerId);
    }
    try {
      await this.#db.runExclusive(async () => {
        if (owner) {
          // ROLLBACK aborts an explicit block or an implicit one (Execute without Sync); Sync ends a
          // half-sent extended-protocol exchange; a second ROLLBACK covers a block whose ROLLBACK was skipped.
          await this.#discarding(simpleQuery('ROLLBACK'));
          await this.#discarding(SYNC);
          if (this.#db.isInTransaction()) await this.#discarding(simpleQuery('ROLLBACK'));
        }
        if (statements) await this.#discarding(closeStatements(statements));
      });
    } finally {
      this.#giveBack();
    }
  }

  /** Queued socket messages (for diagnostics). */
  getQueueLength(): number {
    return this.#chains.size;
  }

  async #run(handlerId: number, original: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.#cleared.has(handlerId)) throw new Error('Handler disconnected');
    const { message, prepared } = scopeNames(original, `c${handlerId}:`);
    if (prepared) {
      const names = this.#statements.get(handlerId);
      if (names) names.add(prepared);
      else this.#statements.set(handlerId, new Set([prepared]));
    }
    const held = this.#held.get(handlerId);
    if (mayWaitForSync(message)) {
      if (held) held.push(message);
      else this.#held.set(handlerId, [message]);
      return 0;
    }
    this.#held.delete(handlerId);
    const messages = held ? Buffer.concat([...held, message]) : message;
    if (this.#owner !== handlerId) await this.#take(handlerId);
    clearTimeout(this.#idleTimer);
    let bytes = 0;
    await this.#db.runExclusive(() =>
      this.#db.execProtocolRawStream(messages, {
        onRawData: (data) => {
          bytes += data.length;
          onData(data);
        },
      }),
    );
    if (endsExchange(message) && !this.#db.isInTransaction()) this.#giveBack();
    else this.#idleTimer = setTimeout(() => this.#options.onIdleTimeout(handlerId), this.#idleTimeouts.get(handlerId) ?? this.#options.idleTimeoutMs);
    return bytes;
  }

  /**
   * Runs messages of the queue's own (for a connection that ended) with their answer dropped. Not
   * `execProtocolRaw`, which would write it to the last served connection (see the module comment).
   */
  #discarding(messages: Uint8Array): Promise<void> {
    return this.#db.execProtocolRawStream(messages, { onRawData: () => undefined });
  }

  /** Waits for PGlite's transaction mutex (held by in-process queries and transactions) and keeps it. */
  async #take(handlerId: number): Promise<void> {
    const release = await new Promise<() => void>((acquired, failed) => {
      this.#db._runExclusiveTransaction(() => new Promise<void>((done) => acquired(done))).catch(failed);
    });
    if (this.#cleared.has(handlerId)) {
      release();
      throw new Error('Handler disconnected');
    }
    this.#owner = handlerId;
    this.#release = release;
  }

  #giveBack(): void {
    clearTimeout(this.#idleTimer);
    const release = this.#release;
    this.#owner = null;
    this.#release = null;
    release?.();
  }
}
