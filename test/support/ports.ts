/** Free TCP ports for tests and benches that start servers of their own. */
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (taken and released, so this or another process can bind it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
