/**
 * Demo mode for `npm start` outside production: seed an empty embedded database and start the two demo
 * portals (eService portal and ECP) as separate origins, registered as first-party OIDC clients.
 */
import { startDemoPortals } from '../examples/start-portals.js';
import type { RunningConnectIam } from './app.js';
import { DEMO_CLIENT_IDS, seedDemoAccounts } from './demo-data.js';
import { ensureFirstPartyClient } from './first-party-client.js';
import type { DrainResult } from './http-drain.js';

/**
 * Public origin of a demo portal on this machine. loadConfig adds `localhost:<port>` of both portals to
 * `backchannelLogoutAllowedHosts` while DEMO_PORTALS is on, so their loopback back-channel logout URIs get logout tokens.
 */
function portalOrigin(port: number): string {
  return `http://localhost:${port}`;
}

/**
 * Registers the two demo portals as clients unless registered already (idempotent, and safe when instances start
 * together on one database) and returns their client secrets.
 */
async function ensureDemoClients(running: RunningConnectIam): Promise<{ eservice: string; ecp: string }> {
  const { demo } = running.config;
  const eservice = await ensureFirstPartyClient(running.clients, { clientId: DEMO_CLIENT_IDS.eservice, clientName: 'eService portal', origin: portalOrigin(demo.eservicePortalPort) });
  const ecp = await ensureFirstPartyClient(running.clients, { clientId: DEMO_CLIENT_IDS.ecp, clientName: 'ECP', origin: portalOrigin(demo.ecpPort) });
  return { eservice, ecp };
}

/**
 * Seeds demo data into an empty embedded database (DEMO_DATA), and starts the demo portals whenever DEMO_PORTALS
 * is on, registering their clients first when missing — also in a database that already holds data (say, an
 * organization created with the CLI before the first `npm start`) or at `DATABASE_URL`.
 * @returns a function that drains the portals (SIGTERM; see server/http-drain.ts).
 * @throws when a portal's port is taken or discovery at the issuer fails (nothing is left listening).
 */
export async function startDemo(running: RunningConnectIam): Promise<() => Promise<DrainResult>> {
  const { config, identity, logger } = running;
  if (config.demo.data && !config.databaseUrl && (await identity.organizations.listOrganizations()).length === 0) {
    await seedDemoAccounts(identity, { dataDir: config.dataDir });
    logger.info('demo data seeded: see README.md for the demo accounts');
  }
  if (!config.demo.portals) return async () => ({ abandoned: 0 });
  const secrets = await ensureDemoClients(running);
  const portals = await startDemoPortals({
    issuer: running.issuer,
    host: config.host,
    cookieSecret: config.cookieKeys[0]!,
    eservice: { port: config.demo.eservicePortalPort, clientId: DEMO_CLIENT_IDS.eservice, clientSecret: secrets.eservice },
    ecp: { port: config.demo.ecpPort, clientId: DEMO_CLIENT_IDS.ecp, clientSecret: secrets.ecp },
    logger,
    shutdownGraceSeconds: config.shutdown.graceSeconds,
  });
  logger.info({ eservice: portalOrigin(config.demo.eservicePortalPort), ecp: portalOrigin(config.demo.ecpPort) }, 'demo portals listening');
  return () => portals.drain();
}
