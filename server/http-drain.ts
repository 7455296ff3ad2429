/**
 * Graceful stop of an HTTP server (SIGTERM): stop listening, let requests in flight finish within a grace
 * period, then cut off what is left. http-terminator does the socket work `server.close()` alone does not
 * (it closes idle keep-alive sockets at once and answers requests still running with `Connection: close`);
 * this module adds the count of requests still open when the grace period ran out, for the exit code and the log.
 */
import type { Server } from 'node:http';
import { createHttpTerminator } from 'http-terminator';

/** What a drain left behind. */
export interface DrainResult {
  /** Requests still running when the grace period ran out (their connections were closed without an answer). */
  abandoned: number;
}

/** A server that can be drained. Create it right after the server, so every connection is tracked. */
export interface DrainableServer {
  /** Requests being answered right now. */
  inFlight(): number;
  /**
   * Closes the listener (new connections are refused), waits up to the grace period for requests in flight,
   * then destroys the remaining connections. Idempotent: a second call returns the first one's result.
   */
  drain(): Promise<DrainResult>;
}

/**
 * Tracks `server`'s requests and connections for {@link DrainableServer.drain}.
 * @param graceSeconds - how long requests in flight may take once draining starts (SHUTDOWN_GRACE_SECONDS).
 */
export function drainable(server: Server, graceSeconds: number): DrainableServer {
  const open = new Set<object>();
  server.on('request', (_req, res) => {
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  let draining: Promise<DrainResult> | undefined;
  const gracefulTerminationTimeout = graceSeconds * 1000;
  // The terminator must exist before the first connection to see it.
  const terminator = createHttpTerminator({ server, gracefulTerminationTimeout });
  return {
    inFlight: () => open.size,
    drain() {
      draining ??= (async () => {
        let abandoned = 0;
        // Created before terminate()'s own timer with the same delay, so it fires first and counts what is still open.
        const deadline = setTimeout(() => (abandoned = open.size), gracefulTerminationTimeout);
        const terminated = terminator.terminate();
        // Refuse new connections now rather than accept and reset them while draining (a load balancer retries a refused connection elsewhere).
        if (server.listening) server.close();
        await terminated.catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ERR_SERVER_NOT_RUNNING') throw error; // our own close() came first
        });
        clearTimeout(deadline);
        return { abandoned };
      })();
      return draining;
    },
  };
}
