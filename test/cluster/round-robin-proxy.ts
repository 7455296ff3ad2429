/**
 * The load balancer of the cluster tests: an HTTP proxy on 127.0.0.1 (node:http) in front of several
 * instances. Each request goes to the next instance in turn (round robin), or to the one named by the
 * `x-cluster-instance` header (a test's way to say "this step on B"; the header is not forwarded).
 *
 * Retries, as a real balancer does them (nginx `proxy_next_upstream error`): a request whose connection to an
 * instance was refused never reached it, so it goes to the next instance whatever its method; a GET or HEAD
 * whose connection failed or was reset before any response byte goes to the next instance too. Any other
 * request that lost its connection gets a 502 with `x-cluster-proxy: upstream-reset` — an answer, never a reset
 * of the client's own connection. Each upstream request uses a fresh connection (no keep-alive pool), so an
 * instance closing its idle sockets on SIGTERM cannot reset a request the proxy had queued on one.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One forwarded request, as the proxy saw it. `instance` is the name of the instance that answered. */
export interface ProxiedRequest {
  method: string;
  path: string;
  instance: string | null;
  status: number;
  /** Names of instances tried before `instance` whose connection failed. */
  retriedFrom: string[];
}

/** An instance behind the proxy. */
export interface Upstream {
  name: string;
  port: number;
}

/** A running proxy. */
export interface RoundRobinProxy {
  url: string;
  port: number;
  /** Every request answered so far, in the order answered. */
  log: ProxiedRequest[];
  close(): Promise<void>;
}

/** The header that pins a request to one instance by name. */
export const PIN_HEADER = 'x-cluster-instance';

const IDEMPOTENT = new Set(['GET', 'HEAD']);

/** Why one attempt failed: `refused` (never connected) or `reset` (connected, no response byte came). */
type AttemptFailure = { kind: 'refused' | 'reset'; error: Error };

function forward(upstream: Upstream, req: http.IncomingMessage, body: Buffer, headers: http.OutgoingHttpHeaders): Promise<http.IncomingMessage | AttemptFailure> {
  return new Promise((resolve) => {
    let connected = false;
    const outgoing = http.request({ host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers, agent: false }, resolve);
    outgoing.on('socket', (socket) => socket.once('connect', () => (connected = true)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ kind: !connected && error.code === 'ECONNREFUSED' ? 'refused' : 'reset', error }));
    outgoing.end(body);
  });
}

/**
 * Starts a proxy on a free loopback port in front of `upstreams` (at least one).
 * @param options.port - listen on this port instead of a free one (an issuer URL chosen before start).
 */
export async function startRoundRobinProxy(upstreams: Upstream[], options: { port?: number } = {}): Promise<RoundRobinProxy> {
  let next = 0;
  const log: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const pinned = req.headers[PIN_HEADER];
        const { [PIN_HEADER]: _pin, connection: _connection, 'keep-alive': _keepAlive, ...headers } = req.headers;
        const start = typeof pinned === 'string' ? Math.max(0, upstreams.findIndex((u) => u.name === pinned)) : next++ % upstreams.length;
        const retriedFrom: string[] = [];
        for (let i = 0; i < upstreams.length; i++) {
          const upstream = upstreams[(start + i) % upstreams.length]!;
          const answer = await forward(upstream, req, body, { ...headers, connection: 'close' });
          if ('kind' in answer) {
            const retry = answer.kind === 'refused' || IDEMPOTENT.has(req.method ?? '');
            retriedFrom.push(upstream.name);
            if (retry && i < upstreams.length - 1) continue;
            log.push({ method: req.method!, path: req.url!, instance: null, status: 502, retriedFrom });
            res.writeHead(502, { 'content-type': 'text/plain', 'x-cluster-proxy': answer.kind === 'refused' ? 'no-upstream' : 'upstream-reset' }).end(`proxy: ${answer.error.message}\n`);
            return;
          }
          const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...responseHeaders } = answer.headers;
          res.writeHead(answer.statusCode!, responseHeaders);
          answer.pipe(res);
          answer.on('error', () => res.destroy());
          answer.on('end', () => log.push({ method: req.method!, path: req.url!, instance: upstream.name, status: answer.statusCode!, retriedFrom: retriedFrom.slice(0, i) }));
          return;
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
