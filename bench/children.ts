/**
 * The processes the bench measures, each started as its own `node` process (no launcher in between, so its
 * pid is the process that serves), with its output kept for diagnostics and its readiness read from a log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryOf, processTree } from './proc.js';

/** The repository root (the children's working directory). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export { freePort } from '../test/support/ports.js';

/**
 * How children run: from the compiled folder of bench/build.ts (`node <folder>/<entry>.js`, as production runs
 * `dist/`), or, when `compiled` is null, from the sources under tsx (`node --import tsx <entry>`).
 */
export const runtime: { compiled: string | null } = { compiled: null };

/** A started child. */
export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Seconds from spawn to ready. */
  startSeconds: number;
  /** Peak RSS while it started, MiB, summed over its process tree (sampled every 100 ms: children such as initdb count). */
  startPeakMiB: number;
  /** The last 64 KiB of its standard output and error. */
  output(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `entry` (a path from the repository root) with `env` added to this process's environment (minus
 * `DATABASE_URL`, which a child gets only when given), and resolves once a line of its output satisfies `ready`.
 * @throws when it exits first or is not ready within `timeoutMs`.
 */
export async function startChild(name: string, entry: string, env: Record<string, string>, ready: (line: string) => boolean, timeoutMs = 180_000): Promise<Child> {
  const { DATABASE_URL: _inherited, ...parentEnv } = process.env;
  // BENCH_CPU_PROF_DIR: every child writes a V8 CPU profile there when it exits (node --cpu-prof; bench/README.md).
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const args = [...profile, ...(runtime.compiled ? [path.join(runtime.compiled, entry.replace(/\.ts$/, '.js'))] : ['--import', 'tsx', entry])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...parentEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let pending = '';
  let isReady = false;
  const began = performance.now();
  let startPeakMiB = 0;
  const sampleTree = () => (startPeakMiB = Math.max(startPeakMiB, processTree(child.pid!).reduce((sum, pid) => sum + (memoryOf(pid)?.rssMiB ?? 0), 0)));
  const sampler = setInterval(sampleTree, 100);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs / 1000} s:\n${output.slice(-3000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-65536);
      if (isReady) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      if (lines.some(ready)) {
        isReady = true;
        pending = '';
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      if (!isReady) reject(new Error(`${name} exited with ${child.exitCode ?? child.signalCode} while starting:\n${output.slice(-3000)}`));
    });
  }).finally(() => clearInterval(sampler));
  const startSeconds = (performance.now() - began) / 1000;
  sampleTree();
  return {
    name,
    pid: child.pid!,
    startSeconds,
    startPeakMiB,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** True for a pino JSON line whose `msg` is `message`. */
export function logged(message: string): (line: string) => boolean {
  return (line) => {
    try {
      return (JSON.parse(line) as { msg?: string }).msg === message;
    } catch {
      return false;
    }
  };
}
