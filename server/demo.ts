/**
 * Demo mode for `npm start` outside production: seed an empty embedded database and start the two demo
 * portals (eService portal and ECP) as separate origins, registered as first-party OIDC clients, and the ECP SFTP
 * gateway (examples/ecp-sftp/) as a service client serving the SFTP authorization API.
 */
import { startDemoPortals } from '../examples/start-portals.js';
import { ECP_SFTP_RESOURCE } from '../examples/ecp-sftp/authorization-client.js';
import { startDemoSftpGateway } from '../examples/ecp-sftp/start.js';
import type { RunningConnectIam } from './app.js';
import { DEMO_CLIENT_IDS, DEMO_OPERATOR, DEMO_ORGANIZATION, seedDemoAccounts } from './demo-data.js';
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

/** Client id of the demo ECP SFTP gateway: a service client of the demo operator's organization serving the SFTP API. */
export const DEMO_SFTP_GATEWAY_CLIENT_ID = 'ecp-sftp-gateway';

/**
 * Registers the demo SFTP gateway (unless registered) and starts it on SFTP_PORT, with a sample report for the
 * demo organization. Skipped, with a warning, when the demo operator's organization does not exist.
 * @returns its close function, or null when skipped.
 */
async function startDemoSftp(running: RunningConnectIam): Promise<(() => Promise<void>) | null> {
  const { config, identity, logger } = running;
  const organizations = await identity.organizations.listOrganizations();
  const operations = organizations.find((o) => o.name === DEMO_OPERATOR.organization.name);
  if (!operations) {
    logger.warn('demo SFTP gateway not started: the demo operator organization does not exist');
    return null;
  }
  const client = await running.clients.ensure({ clientId: DEMO_SFTP_GATEWAY_CLIENT_ID, clientName: 'ECP SFTP gateway', redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service: { organizationId: operations.id, functions: ['EU_ECPSFTP'] }, servedResources: [ECP_SFTP_RESOURCE] });
  const demo = organizations.find((o) => o.name === DEMO_ORGANIZATION.name);
  const gateway = await startDemoSftpGateway({
    issuer: running.issuer, clientId: client.clientId, clientSecret: client.clientSecret!, dataDir: config.dataDir, host: config.host, port: config.demo.sftpPort, logger,
    sampleReports: demo ? [{ organizationId: demo.id, participantId: demo.participantIds[0]! }] : [],
  });
  logger.info({ port: gateway.port, hostKey: gateway.hostPublicKey }, 'demo ECP SFTP gateway listening (see README.md, "ECP SFTP access")');
  return () => gateway.close();
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
  const closeSftp = await startDemoSftp(running).catch(async (error) => {
    await portals.drain();
    throw error;
  });
  return async () => {
    await closeSftp?.();
    return portals.drain();
  };
}
