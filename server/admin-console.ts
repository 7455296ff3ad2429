/**
 * Serves the admin console of `npm start` on its own port (ADMIN_CONSOLE_PORT) once the IdP listens: the same
 * console handler an embedding host mounts (server/connect-iam.ts), built at start-up here, so that a console
 * that cannot reach the IdP fails the start instead of its first request. Building registers it as the
 * first-party client `admin-console` when missing (idempotently: instances starting together agree on one
 * registration) and discovers the IdP.
 *
 * The console listens at once with `/healthz` and `/readyz` (503 `starting` until the app is built) and
 * answers other requests 503 meanwhile. Discovery goes through `ISSUER`, which behind a load balancer may
 * reach a peer that is not up yet, so it is retried with back-off for up to {@link DISCOVERY_RETRY_SECONDS}.
 */
import http from 'node:http';
import type { Logger } from '../lib/index.js';
import type { RunningConnectIam } from './app.js';
import { healthEndpoints } from './health.js';
import { drainable, type DrainResult } from './http-drain.js';

export { ADMIN_CONSOLE_CLIENT_ID } from './connect-iam.js';

/** How long start-up keeps retrying discovery of the IdP, in seconds. */
export const DISCOVERY_RETRY_SECONDS = 60;

/**
 * Runs `build` (which discovers the IdP at `issuer`) until it succeeds, waiting 0.25 s, 0.5 s, 1 s … (at most
 * 5 s) between attempts and logging each failure with the discovery URL.
 * @throws Error naming the discovery URL and the last failure once {@link DISCOVERY_RETRY_SECONDS} have passed.
 */
async function withDiscoveryRetry<T>(issuer: string, logger: Logger, build: () => Promise<T>): Promise<T> {
  const url = `${issuer}/.well-known/openid-configuration`;
  const deadline = Date.now() + DISCOVERY_RETRY_SECONDS * 1000;
  for (let attempt = 1, waitMs = 250; ; attempt++, waitMs = Math.min(waitMs * 2, 5000)) {
    try {
      return await build();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (Date.now() + waitMs > deadline) {
        throw new Error(`the admin console could not discover the IdP at ${url} within ${DISCOVERY_RETRY_SECONDS} s (${attempt} attempts): ${reason}`, { cause: error });
      }
      logger.warn({ url, attempt, retryInSeconds: waitMs / 1000, reason }, 'admin console: discovery of the IdP failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/**
 * Starts the console on `config.adminConsole.port`.
 * @returns a function that drains it (see {@link drainable}); the shared readiness turns 503 on SIGTERM.
 * @throws when the port is taken, or discovery still fails after {@link DISCOVERY_RETRY_SECONDS}.
 */
export async function startAdminConsole(running: RunningConnectIam): Promise<() => Promise<DrainResult>> {
  const { config, logger, readiness, core } = running;
  const origin = config.adminConsole.url;
  let built = false;
  const health = healthEndpoints(readiness, () => built);
  const server = http.createServer((req, res) => {
    if (health(req, res)) return;
    if (built) return void core.adminConsole(req, res);
    res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain; charset=utf-8' }).end('The admin console is starting; retry in a moment.\n');
  });
  const drain = drainable(server, config.shutdown.graceSeconds);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(config.adminConsole.port, config.host, resolve));
  try {
    await withDiscoveryRetry(running.issuer, logger, () => core.buildAdminConsole());
    built = true;
  } catch (error) {
    server.closeAllConnections();
    server.close();
    throw error;
  }
  logger.info({ adminConsole: origin }, 'admin console listening');
  return () => drain.drain();
}
