/**
 * A TCP proxy of the test's own, between the app and a peer it depends on (PostgreSQL, SMTP), that plays the
 * peer's faults on command: pass, delay, black-hole (a hung peer), reset (RST), or refuse (nothing listens).
 * Loopback only. The mode can be switched at any time while connections are open.
 *
 * @example
 * const proxy = await startFaultProxy('postgres://postgres@127.0.0.1:5432/app');
 * const config = loadConfig({ ...env, DATABASE_URL: proxy.url });
 * proxy.blackhole(); // the database hangs
 * proxy.pass();      // and answers again
 */
import net from 'node:net';

/** What the proxy does with connections, set by {@link FaultProxy}'s mode methods. */
export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'blackhole' }
  | { kind: 'reset' }
  | { kind: 'refuse' };

/** Which way a chunk travels: `up` from the app to the peer, `down` from the peer to the app. */
export type Direction = 'up' | 'down';

/**
 * A running fault proxy on 127.0.0.1. Mode methods take effect at once; the promise they return resolves
 * once the proxy listens again (it matters only after {@link refuse}).
 */
export interface FaultProxy {
  /** The port it listens on (kept across {@link refuse} and back). */
  port: number;
  /** The target URL given to {@link startFaultProxy}, with host and port replaced by the proxy's ('' for a host/port target). */
  url: string;
  /** The current mode. */
  mode(): FaultMode;
  /**
   * Forwards both ways. Connections that lost bytes while black-holed are reset first (their stream is
   * corrupt, as after a network partition); the listener listens again if it was refusing.
   */
  pass(): Promise<void>;
  /** Forwards both ways, each chunk `ms` milliseconds late (order kept); new connections too. */
  delay(ms: number): Promise<void>;
  /** A hung peer: accepts and reads every connection, old and new, and never forwards or answers. */
  blackhole(): Promise<void>;
  /** A peer gone hard: every open connection, and each new one as it arrives, is destroyed with a TCP RST. */
  reset(): Promise<void>;
  /** Nothing listens: new connections are refused (ECONNREFUSED); open connections keep forwarding. */
  refuse(): Promise<void>;
  /**
   * Once, resets the connection carrying the first chunk for which `match` holds, before that chunk is
   * forwarded (so its receiver never sees it); other connections are untouched. Resolves when it fired.
   * `connection` numbers the proxy's connections (from 1), for matches that follow one connection's exchange.
   * A chunk is what one read returned: a protocol message may span chunks, and a chunk may hold several.
   */
  resetWhen(match: (chunk: Buffer, direction: Direction, connection: number) => boolean): Promise<void>;
  /** Connections open now (app side). */
  connections(): number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** One app connection and the peer connection it is forwarded to (none while black-holed from the start). */
interface Link {
  id: number;
  client: net.Socket;
  upstream: net.Socket | null;
  /** Bytes were swallowed while black-holed: the stream can no longer be resumed. */
  corrupt: boolean;
  /** Chunks in flight per direction under `delay`, so order holds when the delay changes. */
  queue: Record<Direction, Promise<void>>;
  pending: Record<Direction, number>;
}

/** Destroys a socket with RST where it can (an open TCP socket), else plainly. */
function hardClose(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/**
 * Starts a {@link FaultProxy} in `pass` mode.
 * @param target - a URL (`postgres://…`, `smtp://…`: its host and port) or `{ host, port }`.
 */
export async function startFaultProxy(target: string | { host: string; port: number }): Promise<FaultProxy> {
  const to = typeof target === 'string' ? { host: new URL(target).hostname, port: Number(new URL(target).port || defaultPort(target)) } : target;
  let mode: FaultMode = { kind: 'pass' };
  const links = new Set<Link>();
  const triggers = new Set<{ match: (chunk: Buffer, direction: Direction, connection: number) => boolean; fired: () => void }>();
  let accepted = 0;
  let server: net.Server | null = null;
  let listening: Promise<void> | null = null;
  let port = 0;

  const drop = (link: Link) => {
    hardClose(link.client);
    if (link.upstream) hardClose(link.upstream);
    links.delete(link);
  };

  const forward = (link: Link, direction: Direction, chunk: Buffer) => {
    for (const trigger of triggers) {
      if (trigger.match(chunk, direction, link.id)) {
        triggers.delete(trigger);
        drop(link);
        trigger.fired();
        return;
      }
    }
    if (mode.kind === 'blackhole') {
      link.corrupt = true;
      return;
    }
    const to = direction === 'up' ? link.upstream : link.client;
    if (!to) return;
    const ms = mode.kind === 'delay' ? mode.ms : 0;
    if (ms === 0 && link.pending[direction] === 0) {
      to.write(chunk);
      return;
    }
    link.pending[direction]++;
    link.queue[direction] = link.queue[direction]
      .then(() => new Promise((r) => setTimeout(r, ms)))
      .then(() => {
        link.pending[direction]--;
        if (!to.destroyed) to.write(chunk);
      });
  };

  const connectUpstream = (link: Link) => {
    const upstream = net.connect(to.port, to.host);
    link.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => forward(link, 'down', chunk));
    upstream.on('error', () => drop(link));
    upstream.on('close', () => {
      if (link.queue.down && link.pending.down > 0) void link.queue.down.then(() => link.client.destroy());
      else link.client.destroy();
    });
  };

  const accept = (client: net.Socket) => {
    client.on('error', () => undefined);
    if (mode.kind === 'reset') {
      hardClose(client);
      return;
    }
    const link: Link = { id: ++accepted, client, upstream: null, corrupt: false, queue: { up: Promise.resolve(), down: Promise.resolve() }, pending: { up: 0, down: 0 } };
    links.add(link);
    client.on('close', () => {
      links.delete(link);
      link.upstream?.destroy();
    });
    client.on('data', (chunk: Buffer) => forward(link, 'up', chunk));
    if (mode.kind === 'blackhole') {
      link.corrupt = true;
      return;
    }
    connectUpstream(link);
  };

  const listen = () =>
    (listening ??= new Promise<void>((resolve, reject) => {
      const next = net.createServer(accept);
      server = next;
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        port = (next.address() as net.AddressInfo).port;
        resolve();
      });
    }));
  /** Stops listening at once (net.Server#close); resolves when its open connections are gone too. */
  const unlisten = () => {
    const current = server;
    server = null;
    listening = null;
    return current ? new Promise<void>((resolve) => current.close(() => resolve())) : Promise.resolve();
  };

  await listen();
  const url = (() => {
    if (typeof target !== 'string') return '';
    const u = new URL(target);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    return u.toString();
  })();

  return {
    port,
    url,
    mode: () => mode,
    pass() {
      mode = { kind: 'pass' };
      for (const link of links) if (link.corrupt || !link.upstream) drop(link);
      return listen();
    },
    delay(ms) {
      mode = { kind: 'delay', ms };
      return listen();
    },
    blackhole() {
      mode = { kind: 'blackhole' };
      return listen();
    },
    reset() {
      mode = { kind: 'reset' };
      for (const link of links) drop(link);
      return listen();
    },
    async refuse() {
      mode = { kind: 'refuse' };
      void unlisten(); // open connections keep forwarding: do not wait for them
    },
    resetWhen(match) {
      return new Promise<void>((fired) => triggers.add({ match, fired }));
    },
    connections: () => links.size,
    async close() {
      triggers.clear();
      for (const link of links) drop(link);
      await unlisten();
    },
  };
}

/** The default port of a URL's scheme, for URLs that leave it out. */
function defaultPort(url: string): number {
  const scheme = new URL(url).protocol.replace(/:$/, '');
  const ports: Record<string, number> = { postgres: 5432, postgresql: 5432, smtp: 25, smtps: 465 };
  const found = ports[scheme];
  if (!found) throw new Error(`fault proxy: ${url} names no port and ${scheme}: has no default`);
  return found;
}
