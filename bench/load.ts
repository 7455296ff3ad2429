/**
 * The load generator: `concurrency` workers each run one operation after another until the batch ends (a
 * duration, or a number of operations), recording each operation's latency with `performance.now()`
 * (sub-millisecond, which autocannon's 1 ms histogram cannot give for JWKS or discovery). Plain requests use
 * `node:http` with a keep-alive agent, so a connection is reused as a browser or an API client would.
 */
import http from 'node:http';

/** How a batch ends: after `durationMs`, or after `count` operations in all. */
export type BatchLength = { durationMs: number } | { count: number };

/** What a batch did. */
export interface BatchRun {
  ops: number;
  errors: number;
  /** The first error's message, to explain a failed scenario. */
  firstError?: string;
  /** Wall-clock time from the first operation's start to the last one's end, in ms. */
  wallMs: number;
  /** Latency of each successful operation, in ms. */
  latencies: number[];
}

/**
 * Runs `op(worker, n)` from `concurrency` workers until the batch ends. `worker` is 0…concurrency−1 (each
 * may own an account or a token); `n` counts the worker's operations. A failed operation counts as an error
 * and its worker goes on; more errors than operations (or 20 in all) stop the batch.
 */
export async function runBatch(options: { concurrency: number; length: BatchLength; op: (worker: number, n: number) => Promise<void> }): Promise<BatchRun> {
  const { concurrency, length, op } = options;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const begun = performance.now();
  const deadline = 'durationMs' in length ? begun + length.durationMs : Infinity;
  const more = () => ('count' in length ? started < length.count : performance.now() < deadline) && errors < Math.max(20, latencies.length);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let n = 0; more(); n++) {
        started++;
        const t0 = performance.now();
        try {
          await op(worker, n);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  return { ops: latencies.length, errors, firstError, wallMs: performance.now() - begun, latencies };
}

/** The value at percentile `p` (0–100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** An HTTP answer: status, headers and body text. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request on the shared keep-alive agent. */
export function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method ?? 'GET', headers: { ...init.headers, ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) }, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(init.body);
  });
}

/** {@link send}, throwing unless the answer is `expected` (200 by default). */
export async function expectStatus(url: string, init: Parameters<typeof send>[1] = {}, expected = 200): Promise<Answer> {
  const answer = await send(url, init);
  if (answer.status !== expected) throw new Error(`${init.method ?? 'GET'} ${url} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return answer;
}
