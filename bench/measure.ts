/**
 * One measured batch: CPU of the subject process before and after (÷ operations), database round trips and
 * backend CPU from the wire counter, latency percentiles, throughput and the subject's peak RSS.
 */
import { percentile, runBatch, type BatchLength } from './load.js';
import { memoryOf } from './proc.js';
import type { Variant } from './scenarios.js';
import { BackendCpu, countsSince } from './wire-counter.js';

/** The figures of one batch. Absent figures are null (not measurable for this subject). */
export interface Measurement {
  ops: number;
  errors: number;
  firstError?: string;
  /** Operations per second of wall-clock time, at the batch's concurrency. */
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the subject process (all threads), ms per operation. */
  cpuMsPerOp: number;
  /** CPU of the PostgreSQL backends serving it, ms per operation (PostgreSQL server only). */
  dbCpuMsPerOp: number | null;
  /** Database round trips (simple queries + extended-protocol Syncs) per operation (PostgreSQL server only). */
  roundTripsPerOp: number | null;
  /** Statements sent as text to be parsed (`Parse` messages) per operation; 0 would mean all prepared. */
  parsesPerOp: number | null;
  /** Database connections opened during the batch. */
  connectionsOpened: number | null;
  /** HTTP requests per operation, for flows that count them. */
  requestsPerOp: number | null;
  /** Peak RSS of the subject process during the batch, MiB (sampled every 100 ms). */
  rssPeakMiB: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prepares and runs one batch of `variant` with `concurrency` workers. */
export async function measure(variant: Variant, length: BatchLength, concurrency: number): Promise<Measurement> {
  const { subject } = variant;
  const batch = await variant.prepare(length);
  await sleep(150); // let the preparation's own work (and log writes) finish before counting
  const backend = subject.wire ? new BackendCpu(subject.wire) : null;
  const wireBefore = subject.wire?.counts();
  let rssPeak = subject.pid ? (memoryOf(subject.pid)?.rssMiB ?? 0) : null;
  const rssTimer = setInterval(() => {
    if (subject.pid) rssPeak = Math.max(rssPeak ?? 0, memoryOf(subject.pid)?.rssMiB ?? 0);
  }, 100);
  const backendTimer = setInterval(() => backend?.sample(), 250);
  const cpuBefore = subject.cpuMs();
  try {
    const run = await runBatch({ concurrency, length: batch.length, op: batch.op });
    await batch.settle?.();
    const cpu = subject.cpuMs() - cpuBefore;
    const dbCpu = backend?.total() ?? null;
    const wire = subject.wire && wireBefore ? countsSince(wireBefore, subject.wire.counts()) : null;
    const per = (value: number) => (run.ops > 0 ? value / run.ops : NaN);
    return {
      ops: run.ops,
      errors: run.errors,
      ...(run.firstError ? { firstError: run.firstError } : {}),
      opsPerSecond: run.ops / (run.wallMs / 1000),
      p50Ms: percentile(run.latencies, 50),
      p99Ms: percentile(run.latencies, 99),
      cpuMsPerOp: per(cpu),
      dbCpuMsPerOp: dbCpu === null ? null : per(dbCpu),
      roundTripsPerOp: wire ? per(wire.roundTrips) : null,
      parsesPerOp: wire ? per(wire.parses) : null,
      connectionsOpened: wire ? wire.connections : null,
      requestsPerOp: batch.requestsPerOp?.() ?? null,
      rssPeakMiB: rssPeak,
    };
  } finally {
    clearInterval(rssTimer);
    clearInterval(backendTimer);
  }
}

/** The record of a batch that could not run (its preparation failed). */
export function failedMeasurement(error: unknown): Measurement {
  return {
    ops: 0,
    errors: 1,
    firstError: error instanceof Error ? error.message : String(error),
    opsPerSecond: NaN,
    p50Ms: NaN,
    p99Ms: NaN,
    cpuMsPerOp: NaN,
    dbCpuMsPerOp: null,
    roundTripsPerOp: null,
    parsesPerOp: null,
    connectionsOpened: null,
    requestsPerOp: null,
    rssPeakMiB: null,
  };
}
