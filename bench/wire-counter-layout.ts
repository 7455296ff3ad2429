/** Layout of the wire counter's shared `Int32Array` (bench/wire-counter.ts and its worker). */
export const COUNTER = { connections: 0, query: 1, parse: 2, bind: 3, execute: 4, sync: 5, pids: 6 } as const;
/** Backend pids recorded from index {@link PID_BASE} on, at most {@link MAX_PIDS}. */
export const PID_BASE = 8;
export const MAX_PIDS = 1024;
