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

/** Registers the two demo portals as clients, unless registered already (idempotent, so a seeding cut short can be repeated). */
async function seedDemoClients(running: RunningConnectIam): Promise<void> {
  const { demo } = running.config;
  const portals = [
    { clientId: DEMO_CLIENT_IDS.eservice, clientName: 'eService portal', port: demo.eservicePortalPort },
    { clientId: DEMO_CLIENT_IDS.ecp, clientName: 'ECP', port: demo.ecpPort },
  ];
  for (const p of portals) await ensureFirstPartyClient(running.clients, { clientId: p.clientId, clientName: p.clientName, origin: portalOrigin(p.port) });
}

/**
 * Seeds demo data into an empty embedded database (when enabled) and starts the demo portals (when enabled).
 * @returns a function that drains the portals (SIGTERM; see server/http-drain.ts).
 */
export async function startDemo(running: RunningConnectIam): Promise<() => Promise<DrainResult>> {
  const { config, identity, logger } = running;
  if (config.demo.data && !config.databaseUrl && (await identity.organizations.listOrganizations()).length === 0) {
    await seedDemoAccounts(identity);
    await seedDemoClients(running);
    logger.info('demo data seeded: see README.md for the demo accounts');
  }
  const none = async () => ({ abandoned: 0 });
  if (!config.demo.portals) return none;
  const eservice = await running.clients.find(DEMO_CLIENT_IDS.eservice);
  const ecp = await running.clients.find(DEMO_CLIENT_IDS.ecp);
  if (!eservice?.clientSecret || !ecp?.clientSecret) {
    logger.warn('demo portals not started: clients eservice-portal and ecp are not registered');
    return none;
  }
  const portals = await startDemoPortals({
    issuer: running.issuer,
    host: config.host,
    cookieSecret: config.cookieKeys[0]!,
    eservice: { port: config.demo.eservicePortalPort, clientId: eservice.clientId, clientSecret: eservice.clientSecret },
    ecp: { port: config.demo.ecpPort, clientId: ecp.clientId, clientSecret: ecp.clientSecret },
    logger,
    shutdownGraceSeconds: config.shutdown.graceSeconds,
  });
  logger.info({ eservice: portalOrigin(config.demo.eservicePortalPort), ecp: portalOrigin(config.demo.ecpPort) }, 'demo portals listening');
  return () => portals.drain();
}
