/**
 * Worker thread of {@link ../wire-counter.ts}: a TCP proxy to a PostgreSQL server that counts the frontend
 * messages of the wire protocol (PostgreSQL docs §55.7, "Message Formats") and records each connection's
 * backend process ID (BackendKeyData, `K`) in shared memory. It runs on its own thread so that forwarding is
 * not delayed by the bench's load generator.
 */
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { COUNTER, MAX_PIDS, PID_BASE } from './wire-counter-layout.js';

const { buffer, host, port } = workerData as { buffer: SharedArrayBuffer; host: string; port: number };
const counters = new Int32Array(buffer);

/** Frontend message type byte → counter index. */
const COUNTED: Record<number, number> = {
  0x51: COUNTER.query, // 'Q' simple query: one round trip
  0x50: COUNTER.parse, // 'P'
  0x42: COUNTER.bind, // 'B'
  0x45: COUNTER.execute, // 'E'
  0x53: COUNTER.sync, // 'S' end of an extended-protocol batch: one round trip
};

/** Splits the frontend stream into messages: the untyped start-up packets first, then `type, int32 length, body`. */
function frontendParser(): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let started = false;
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      if (!started) {
        if (pending.length - offset < 8) break;
        const length = pending.readInt32BE(offset);
        if (pending.length - offset < length) break;
        const code = pending.readInt32BE(offset + 4);
        // SSLRequest, GSSENCRequest and CancelRequest come before (or instead of) the start-up message.
        if (code !== 80877103 && code !== 80877104 && code !== 80877102) started = true;
        offset += length;
        continue;
      }
      if (pending.length - offset < 5) break;
      const length = pending.readInt32BE(offset + 1);
      if (pending.length - offset < 1 + length) break;
      const index = COUNTED[pending[offset]!];
      if (index !== undefined) Atomics.add(counters, index, 1);
      offset += 1 + length;
    }
    pending = offset === pending.length ? Buffer.alloc(0) : pending.subarray(offset);
  };
}

/** Reads the backend stream until BackendKeyData (`K`: int32 process ID, int32 secret) and records the pid. */
function backendPidReader(): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let done = false;
  return (chunk) => {
    if (done) return;
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    while (pending.length - offset >= 5) {
      const type = pending[offset]!;
      const length = pending.readInt32BE(offset + 1);
      if (pending.length - offset < 1 + length) break;
      if (type === 0x4b) {
        const slot = Atomics.add(counters, COUNTER.pids, 1);
        if (slot < MAX_PIDS) Atomics.store(counters, PID_BASE + slot, pending.readInt32BE(offset + 5));
        done = true;
        return;
      }
      if (type === 0x5a) {
        done = true; // ReadyForQuery before any K: nothing to record
        return;
      }
      offset += 1 + length;
    }
    pending = pending.subarray(offset);
  };
}

const server = net.createServer((client) => {
  Atomics.add(counters, COUNTER.connections, 1);
  const upstream = net.connect(port, host);
  const countFrontend = frontendParser();
  const readPid = backendPidReader();
  client.on('data', (chunk) => {
    countFrontend(chunk);
    upstream.write(chunk);
  });
  upstream.on('data', (chunk) => {
    readPid(chunk);
    client.write(chunk);
  });
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('close', end).on('error', end);
  upstream.on('close', end).on('error', end);
});
server.listen(0, '127.0.0.1', () => parentPort!.postMessage({ port: (server.address() as net.AddressInfo).port }));
parentPort!.on('message', (message) => {
  if (message === 'close') server.close(() => process.exit(0));
});
