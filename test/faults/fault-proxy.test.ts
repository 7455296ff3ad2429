/**
 * The fault proxy the fault tests put between the app and its peers: each mode does to a TCP client what the
 * fault it stands for would (a hung peer reads and never answers, a reset peer sends RST, a stopped one refuses).
 * Runs on an echo server, so it needs no database and runs in both projects.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

/** Connects to the proxy; resolves with the socket once connected, rejects with the connect error. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `text` and resolves with what comes back within `ms`: the echo, '' for silence, or the socket's error code. */
function roundTrip(socket: net.Socket, text: string, ms = 300): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const timer = setTimeout(() => done(got), ms);
    const onData = (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= text.length) done(got);
    };
    const onError = (error: NodeJS.ErrnoException) => done(error.code ?? 'error');
    const onClose = () => done(got || 'closed');
    const done = (answer: string) => {
      clearTimeout(timer);
      socket.off('data', onData).off('error', onError).off('close', onClose);
      resolve(answer);
    };
    socket.on('data', onData).on('error', onError).on('close', onClose);
    socket.write(text);
  });
}

describe('fault proxy', () => {
  let echo: net.Server;
  let proxy: FaultProxy;
  const opened: net.Socket[] = [];
  const open = async () => {
    const socket = await connect(proxy.port);
    opened.push(socket);
    return socket;
  };

  beforeAll(async () => {
    echo = net.createServer((socket) => socket.on('error', () => undefined).pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await startFaultProxy(`postgres://user@127.0.0.1:${(echo.address() as net.AddressInfo).port}/db`);
  });
  afterEach(async () => {
    for (const socket of opened.splice(0)) socket.destroy();
    await proxy.pass();
  });
  afterAll(async () => {
    await proxy?.close();
    await new Promise<void>((resolve) => echo?.close(() => resolve()));
  });

  it('gives the target URL with its own host and port', () => {
    expect(proxy.url).toBe(`postgres://user@127.0.0.1:${proxy.port}/db`);
  });

  it('forwards in pass mode, and late by the delay in delay mode, in order', async () => {
    const socket = await open();
    expect(await roundTrip(socket, 'hello')).toBe('hello');
    await proxy.delay(150);
    const started = performance.now();
    expect(await roundTrip(socket, 'slow', 1000)).toBe('slow');
    expect(performance.now() - started).toBeGreaterThanOrEqual(280); // up and down, 150 ms each (timers may fire 1 ms early)
    await proxy.pass();
    expect(await roundTrip(socket, 'fast')).toBe('fast');
  });

  it('black-holes open and new connections: they stay open and nothing comes back; pass resets the ones that lost bytes', async () => {
    const before = await open();
    await proxy.blackhole();
    expect(await roundTrip(before, 'lost')).toBe('');
    const during = await open();
    expect(await roundTrip(during, 'lost too')).toBe('');
    const closed = Promise.all([before, during].map((s) => new Promise((r) => s.once('close', r))));
    await proxy.pass();
    await closed;
    expect(await roundTrip(await open(), 'back')).toBe('back');
  });

  it('resets open connections and each new one with RST', async () => {
    const before = await open();
    const reset = new Promise<string | undefined>((resolve) => before.once('error', (e: NodeJS.ErrnoException) => resolve(e.code)));
    await proxy.reset();
    expect(await reset).toBe('ECONNRESET');
    const next = await open().then((socket) => roundTrip(socket, 'x'), (error: NodeJS.ErrnoException) => error.code);
    expect(next).toMatch(/ECONNRESET|closed/);
  });

  it('refuses new connections while open ones keep forwarding, and listens on the same port again on pass', async () => {
    const before = await open();
    await proxy.refuse();
    await expect(connect(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await roundTrip(before, 'still')).toBe('still');
    await proxy.pass();
    expect(await roundTrip(await open(), 'again')).toBe('again');
  });

  it('resets only the connection that carries a matching chunk, before forwarding it', async () => {
    const [one, two] = [await open(), await open()];
    const fired = proxy.resetWhen((chunk, direction) => direction === 'up' && chunk.includes('COMMIT'));
    expect(await roundTrip(one, 'select')).toBe('select');
    expect(await roundTrip(one, 'COMMIT')).toMatch(/ECONNRESET|closed/);
    await fired;
    expect(await roundTrip(two, 'COMMIT')).toBe('COMMIT'); // once only
  });
});
