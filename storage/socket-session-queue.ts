/**
 * The query queue behind the embedded database's CLI socket (see embedded-socket.ts). It replaces
 * pglite-socket's own queue, which is not safe to share a PGlite with in-process queries:
 *
 * - pglite-socket runs each wire message under `PGlite.runExclusive` (the *query* mutex) only, while
 *   PGlite's own `query`/`exec`/`transaction` — all that drizzle uses — hold the *transaction* mutex.
 *   A socket client's statements therefore run inside a server transaction between two of its
 *   statements, and the server's statements inside a socket client's `BEGIN … COMMIT`: a CLI `ROLLBACK`
 *   undoes server writes the server reported done, a server rollback undoes a CLI write (both reproduced
 *   with pglite-socket 0.2.17; test/storage/embedded-database.test.ts holds the fixed behaviour).
 * - Outside `BEGIN` it may switch connections between any two messages, so one connection's
 *   Parse/Bind/Execute could land between another's (they share PGlite's single unnamed statement).
 *   Not reproduced in practice; the exclusive exchange below rules it out anyway.
 *
 * Here a connection first takes PGlite's transaction mutex (the one in-process queries and transactions
 * hold) and keeps it for a whole exchange: until a Sync or simple Query message leaves PGlite outside a
 * transaction block. In-process work waits meanwhile, and vice versa, so each side sees the other's
 * transactions as atomic, exactly as two PostgreSQL sessions would (PGlite has one backend, so they are
 * serialized rather than concurrent). A connection idle inside a transaction longer than the configured
 * timeout is closed and its transaction rolled back, so a stuck CLI cannot stall the server.
 *
 * Relies on `PGlite._runExclusiveTransaction` (public in its type declarations, underscore-named):
 * re-check this file when upgrading @electric-sql/pglite.
 */
import type { PGlite } from '@electric-sql/pglite';

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

/** Sync ('S'), simple Query ('Q'), Terminate ('X') or the startup message (no type byte, starts with 0). */
function endsExchange(message: Uint8Array): boolean {
  const type = message[0];
  return type === 0x53 || type === 0x51 || type === 0x58 || type === 0x00;
}

/** Options of {@link SocketSessionQueue}. */
export interface SocketSessionQueueOptions {
  /** Milliseconds a connection may hold the database idle (inside a transaction or exchange). */
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

  constructor(db: PGlite, options: SocketSessionQueueOptions) {
    this.#db = db;
    this.#options = options;
  }

  /** Runs one wire message of a connection, in arrival order per connection. Resolves with bytes answered. */
  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    const previous = this.#chains.get(handlerId) ?? Promise.resolve(0);
    const run = previous.catch(() => 0).then(() => this.#run(handlerId, message, onData));
    this.#chains.set(handlerId, run);
    void run.catch(() => 0).finally(() => {
      if (this.#chains.get(handlerId) === run) this.#chains.delete(handlerId);
    });
    return run;
  }

  /** Rejects the connection's messages that have not started. */
  clearQueueForHandler(handlerId: number): void {
    this.#cleared.add(handlerId);
  }

  /** After a connection closed: aborts whatever it left open and gives the database back. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    await this.#chains.get(handlerId)?.catch(() => 0);
    this.#cleared.delete(handlerId);
    if (this.#owner !== handlerId) return;
    try {
      await this.#db.runExclusive(async () => {
        // ROLLBACK aborts an explicit block or an implicit one (Execute without Sync); Sync ends a
        // half-sent extended-protocol exchange; a second ROLLBACK covers a block whose ROLLBACK was skipped.
        await this.#db.execProtocolRaw(simpleQuery('ROLLBACK'));
        await this.#db.execProtocolRaw(SYNC);
        if (this.#db.isInTransaction()) await this.#db.execProtocolRaw(simpleQuery('ROLLBACK'));
      });
    } finally {
      this.#giveBack();
    }
  }

  /** Queued socket messages (for diagnostics). */
  getQueueLength(): number {
    return this.#chains.size;
  }

  async #run(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.#cleared.has(handlerId)) throw new Error('Handler disconnected');
    if (this.#owner !== handlerId) await this.#take(handlerId);
    clearTimeout(this.#idleTimer);
    let bytes = 0;
    await this.#db.runExclusive(() =>
      this.#db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          onData(data);
        },
      }),
    );
    if (endsExchange(message) && !this.#db.isInTransaction()) this.#giveBack();
    else this.#idleTimer = setTimeout(() => this.#options.onIdleTimeout(handlerId), this.#options.idleTimeoutMs);
    return bytes;
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
