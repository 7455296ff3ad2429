/**
 * The demo portals (eService portal and ECP) against a test IdP, each registered as a first-party client on its
 * own free port, as `npm start` runs them.
 */
import { startDemoPortals } from '../../examples/start-portals.js';
import { registerFirstPartyClient } from '../../server/first-party-client.js';
import { freePort } from './browser.js';
import type { TestIdp } from './harness.js';

/** Running demo portals: their origins and how to stop them. */
export interface TestPortals {
  eserviceUrl: string;
  ecpUrl: string;
  close(): Promise<void>;
}

/**
 * Registers both portals at `t`'s IdP and starts them on 127.0.0.1. For back-channel logout to reach them, start
 * the IdP with `BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: 'localhost'` (their origins are `http://localhost:<free port>`).
 */
export async function startTestPortals(t: TestIdp): Promise<TestPortals> {
  const ports = { eservice: await freePort(), ecp: await freePort() };
  const client = async (clientId: string, port: number) => ({ port, clientId, clientSecret: await registerFirstPartyClient(t.idp.clients, { clientId, clientName: clientId, origin: `http://localhost:${port}` }) });
  const portals = await startDemoPortals({
    issuer: t.issuer,
    host: '127.0.0.1',
    cookieSecret: 'a-test-cookie-secret-of-at-least-32-chars',
    eservice: await client('eservice-portal', ports.eservice),
    ecp: await client('ecp', ports.ecp),
  });
  return { eserviceUrl: `http://localhost:${ports.eservice}`, ecpUrl: `http://localhost:${ports.ecp}`, close: () => portals.close() };
}
