/**
 * Sending a probe over a plain socket-level HTTP request (node:http), so malformed paths, bodies and headers
 * reach the server exactly as written, and checking what came back.
 */
import http from 'node:http';
import type { Probe } from './mutations.js';

/** What a probe got back: its status (0 when the connection ended without an answer) and body text. */
export interface Answer {
  status: number;
  text: string;
  error?: string;
}

/** Sends `probe` to `origin` (e.g. `http://127.0.0.1:3000`) with `cookie`; answers within 15 s or fails. */
export function send(origin: string, probe: Probe, cookie = ''): Promise<Answer> {
  const url = new URL(origin);
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { accept: 'text/html,application/json;q=0.9', ...probe.headers };
    if (cookie) headers.cookie = cookie;
    if (probe.body) headers['content-length'] = probe.body.length;
    const req = http.request({ host: url.hostname, port: url.port, method: probe.method, path: probe.path, headers, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (err) => resolve({ status: 0, text: '', error: err.message }));
    req.end(probe.body);
  });
}

const STACK = /\n\s+at |\bat [\w.<>]+ \(\/|node_modules\//;
const SQL = /\b(SELECT|INSERT INTO|DELETE FROM|UPDATE "?\w+"? SET)\b|invalid byte sequence|unsupported Unicode escape|SQLSTATE|syntax error at|violates \w+ constraint|drizzle|PGlite/;

/** Why `answer` is wrong (a 5xx, no answer, a stack trace, SQL), or null when it is a proper answer. */
export function problemOf(answer: Answer): string | null {
  if (answer.status === 0) return `no answer (${answer.error})`;
  if (answer.status >= 500) return `status ${answer.status}`;
  if (STACK.test(answer.text)) return `stack trace in a ${answer.status}`;
  if (SQL.test(answer.text)) return `SQL in a ${answer.status}`;
  return null;
}
