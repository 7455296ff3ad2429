/**
 * Database round trips on the wire: the server under test reaches PostgreSQL through this proxy, which counts
 * frontend messages (a simple `Query`, or the `Sync` that ends each extended-protocol batch of Parse/Bind/
 * Describe/Execute, is one round trip: the client then waits for ReadyForQuery) and learns the backend
 * process of each connection, so the bench can read that process's CPU time in `/proc`.
 *
 * The proxy runs in a worker thread and shares its counters through a `SharedArrayBuffer`.
 */
import { Worker } from 'node:worker_threads';
import { cpuMsOf } from './proc.js';
import { COUNTER, MAX_PIDS, PID_BASE } from './wire-counter-layout.js';

/** Counts at one moment. */
export interface WireCounts {
  connections: number;
  /** Simple queries (`Q`). */
  queries: number;
  /** Extended-protocol messages: `P`arse (a statement sent as text), `B`ind, `E`xecute, `S`ync. */
  parses: number;
  binds: number;
  executes: number;
  syncs: number;
  /** `queries + syncs`: requests the client waited on. */
  roundTrips: number;
}

/** A running counter proxy. */
export interface WireCounter {
  /** `127.0.0.1:<port>`: put it in the server's `DATABASE_URL` instead of PostgreSQL's own address. */
  port: number;
  counts(): WireCounts;
  /** Backend process IDs of every connection made through the proxy so far. */
  backendPids(): number[];
  close(): Promise<void>;
}

/** Starts the proxy in front of PostgreSQL at `host:port`. */
export async function startWireCounter(target: { host: string; port: number }): Promise<WireCounter> {
  const buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (PID_BASE + MAX_PIDS));
  const counters = new Int32Array(buffer);
  // Node 20 gives workers no `--import` loader: the worker registers tsx itself, then loads the TypeScript file.
  const entry = new URL('./wire-counter-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { buffer, ...target } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  worker.unref();
  const read = (index: number) => Atomics.load(counters, index);
  return {
    port,
    counts() {
      const queries = read(COUNTER.query);
      const syncs = read(COUNTER.sync);
      return { connections: read(COUNTER.connections), queries, parses: read(COUNTER.parse), binds: read(COUNTER.bind), executes: read(COUNTER.execute), syncs, roundTrips: queries + syncs };
    },
    backendPids() {
      const n = Math.min(read(COUNTER.pids), MAX_PIDS);
      return Array.from({ length: n }, (_, i) => read(PID_BASE + i));
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** The difference of two {@link WireCounts}. */
export function countsSince(before: WireCounts, after: WireCounts): WireCounts {
  const keys = Object.keys(after) as (keyof WireCounts)[];
  return Object.fromEntries(keys.map((k) => [k, after[k] - before[k]])) as unknown as WireCounts;
}

/**
 * CPU time of the PostgreSQL backends serving the proxy's connections over one batch. Backends may end during
 * the batch (the pool closes idle connections): {@link sample} is called every few hundred milliseconds so
 * that the last reading of each is kept.
 */
export class BackendCpu {
  private readonly start = new Map<number, number>();
  private readonly last = new Map<number, number>();

  constructor(private readonly counter: WireCounter) {
    for (const pid of counter.backendPids()) {
      const ms = cpuMsOf(pid);
      if (ms !== null) this.start.set(pid, ms);
    }
  }

  /** Reads every backend's CPU time now. */
  sample(): void {
    for (const pid of this.counter.backendPids()) {
      const ms = cpuMsOf(pid);
      if (ms !== null) this.last.set(pid, ms);
    }
  }

  /** CPU ms the backends spent since construction (a backend that started since counts from zero). */
  total(): number {
    this.sample();
    let sum = 0;
    for (const [pid, ms] of this.last) sum += ms - (this.start.get(pid) ?? 0);
    return sum;
  }
}
