/**
 * What the infrastructure tests drive: connect-iam as the operator runs it (`tsx server/main.ts`, a separate
 * process with its own ports and data folder), an SMTP server that holds each message for a while (so
 * sign-ins stay in flight). The TCP proxy between the app and its peers is test/faults/support/fault-proxy.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../support/ports.js';
import { createLogger, loadConfig, systemClock } from '../../lib/index.js';
import type { Identity } from '../../identity/index.js';
import { sealingKeysOf, wireIdentity } from '../../server/wiring.js';
import { createClientStore, openDatabase, type ClientStore } from '../../storage/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export { freePort };

/** One pino line of the child, parsed (`msg`, `time` in epoch ms, and the rest). */
export type LogLine = { msg?: string; time?: number; level?: number } & Record<string, unknown>;

/** A running `server/main.ts`. */
export interface ServerProcess {
  child: ChildProcess;
  issuer: string;
  consoleUrl: string;
  logs: LogLine[];
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process ended. */
  exited: Promise<number | null>;
  /** Resolves with the first log line matching `predicate`; rejects after `timeoutMs` or when the process exits first. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** The environment every child gets: test mode, loopback, no demo, JSON logs at info. */
function baseEnv(port: number, consolePort: number): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: `http://127.0.0.1:${port}`,
    ADMIN_CONSOLE_PORT: String(consolePort),
    ADMIN_CONSOLE_URL: `http://127.0.0.1:${consolePort}`,
    DEMO_DATA: 'false',
    DEMO_PORTALS: 'false',
    LOG_LEVEL: 'info',
  };
}

/**
 * Spawns `node --import tsx server/main.ts` on free ports. Does not wait for it: see {@link untilListening}.
 * @param env - added to (and overriding) the base environment, e.g. `DATA_DIR`, `DATABASE_URL`, `SMTP_URL`, `ISSUER`.
 */
export async function spawnServer(env: Record<string, string>, ports?: { port: number; consolePort: number }): Promise<ServerProcess> {
  const port = ports?.port ?? (await freePort());
  const consolePort = ports?.consolePort ?? (await freePort());
  const fullEnv = { ...baseEnv(port, consolePort), ...env };
  const { DATABASE_URL: _inherited, ...parentEnv } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { cwd: root, env: { ...parentEnv, ...fullEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const watchers = new Set<() => void>();
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const wake of watchers) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => {
    for (const wake of watchers) wake();
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  return {
    child,
    issuer: fullEnv.ISSUER!,
    consoleUrl: fullEnv.ADMIN_CONSOLE_URL!,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(predicate);
          if (found) return done(() => resolve(found));
          if (hasExited) done(() => reject(new Error(`the server exited before the expected log line; stderr: ${stderr}`)));
        };
        const done = (then: () => void) => {
          watchers.delete(check);
          clearTimeout(timer);
          then();
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no such log line within ${timeoutMs} ms; stderr: ${stderr}`))), timeoutMs);
        watchers.add(check);
        check();
      });
    },
  };
}

/** Waits until the process logged that the admin console listens (the last step of start-up). */
export function untilListening(server: ServerProcess, timeoutMs = 45_000): Promise<LogLine> {
  return server.waitForLog((line) => line.msg === 'admin console listening', timeoutMs);
}

/** Sends `signal` unless the process already ended, and waits for its exit code. */
export async function stopServer(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill(signal);
  return server.exited;
}

/**
 * Opens the deployment's database in this process (before any server holds the embedded one), wires identity
 * and clients on it, runs `arrange`, and closes it again.
 */
export async function arrange<T>(env: Record<string, string>, run: (deps: { identity: Identity; clients: ClientStore }) => Promise<T>): Promise<T> {
  const config = loadConfig({ ...env, LOG_LEVEL: 'silent' });
  const database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir });
  try {
    const identity = wireIdentity(config, database, { mailer: { send: async () => {} }, clock: systemClock, logger: createLogger('silent') });
    return await run({ identity, clients: createClientStore(database, sealingKeysOf(config)) });
  } finally {
    await database.close();
  }
}

/** A message the slow SMTP server accepted, and when (epoch ms) it answered 250 for it. */
export interface HeldMail {
  to: string[];
  acceptedAt: number;
}

/** An SMTP server that holds every message `holdMs` before accepting it. */
export interface SlowSmtp {
  url: string;
  /** Messages whose data arrived (held or accepted). */
  arrived(): number;
  accepted: HeldMail[];
  /** Resolves once `count` messages have arrived. */
  untilArrived(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a {@link SlowSmtp} on 127.0.0.1. */
export async function startSlowSmtp(holdMs: number): Promise<SlowSmtp> {
  let arrived = 0;
  const accepted: HeldMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        arrived++;
        setTimeout(() => {
          accepted.push({ to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()), acceptedAt: Date.now() });
          callback();
        }, holdMs);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as net.AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    arrived: () => arrived,
    accepted,
    async untilArrived(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (arrived < count) {
        if (Date.now() > deadline) throw new Error(`only ${arrived} of ${count} messages arrived within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
