/**
 * What the bench reads from Linux's `/proc`: CPU time (utime + stime of every thread of a process, and of its
 * descendants), resident memory, and the host's CPU model. CPU is in clock ticks (`CLK_TCK`, usually 100 per
 * second, so 10 ms each), reported in milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Milliseconds per clock tick of `/proc/<pid>/stat` (`getconf CLK_TCK`; 10 ms when it cannot be read). */
export const MS_PER_TICK = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

/** Fields of `/proc/<pid>/stat` after the command name: index 0 is field 3 (state). */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // the process ended
  }
}

/** utime + stime of `pid` (all its threads, including threads that ended), in ms; null when it is gone. */
export function cpuMsOf(pid: number): number | null {
  const fields = statFields(pid);
  if (!fields) return null;
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

/** `pid` and all its descendants, from the parent pid field of `/proc/<pid>/stat`. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (ppid) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const walk = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(root);
  return tree;
}

/**
 * CPU of a process and its descendants (e.g. tsx's idle esbuild service), in ms. Descendants are listed once,
 * when the meter is made; the server starts none later.
 */
export function cpuMeter(pid: number): () => number {
  const tree = processTree(pid);
  return () => tree.reduce((sum, p) => sum + (cpuMsOf(p) ?? 0), 0);
}

/** VmRSS and VmHWM (peak RSS since the start) of one process, in MiB; null when it is gone. */
export function memoryOf(pid: number): { rssMiB: number; hwmMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** The CPU model name and the number of cores this process may use. */
export function cpuModel(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The 1, 5 and 15 minute load averages of the host. */
export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}
