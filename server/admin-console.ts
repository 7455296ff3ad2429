/**
 * Starts the admin console (admin-console/) on its own port once the IdP listens: registers it as the
 * first-party client `admin-console` when missing, reads its secret, builds the app and listens.
 */
import type { Server } from 'node:http';
import { createAdminConsole } from '../admin-console/index.js';
import type { RunningConnectIam } from './app.js';
import { ensureFirstPartyClient } from './first-party-client.js';

/** Client id of the admin console at the IdP. */
export const ADMIN_CONSOLE_CLIENT_ID = 'admin-console';

/**
 * Starts the console on `config.adminConsole.port`.
 * @returns a function that stops it.
 * @throws when discovery fails or the port is taken.
 */
export async function startAdminConsole(running: RunningConnectIam): Promise<() => Promise<void>> {
  const { config, identity, logger } = running;
  const origin = config.adminConsole.url;
  const clientSecret = await ensureFirstPartyClient(running.clients, { clientId: ADMIN_CONSOLE_CLIENT_ID, clientName: 'Admin console', origin });
  const app = await createAdminConsole({
    identity,
    clients: running.clients,
    issuer: running.issuer,
    clientId: ADMIN_CONSOLE_CLIENT_ID,
    clientSecret,
    baseUrl: origin,
    cookieSecret: config.cookieKeys[0]!,
    timeZone: config.timeZone,
    allowInsecureRequests: running.issuer.startsWith('http:'),
    logger,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.adminConsole.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  logger.info({ adminConsole: origin }, 'admin console listening');
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}
