/**
 * `startDemoPortals` serves the two portals on their own origins and stops them with `close()`.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoPortals } from '../../examples/start-portals.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

let idp: TestIssuer;
beforeAll(async () => void (idp = await startTestIssuer()));
afterAll(() => idp.close());

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('startDemoPortals', () => {
  it('listens on both ports, each portal signing in through the issuer, and closes them', async () => {
    const [eservicePort, ecpPort] = [await freePort(), await freePort()];
    const portals = await startDemoPortals({
      issuer: idp.issuer,
      host: '127.0.0.1',
      cookieSecret: 'start-portals-cookie-secret-32-characters',
      eservice: { port: eservicePort, clientId: idp.clientId, clientSecret: idp.clientSecret },
      ecp: { port: ecpPort, clientId: 'ecp-test', clientSecret: 'ecp-secret' },
    });
    try {
      const home = await fetch(`http://127.0.0.1:${eservicePort}/`);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('Sign in');
      const ecp = await fetch(`http://127.0.0.1:${ecpPort}/`, { redirect: 'manual' });
      expect(ecp.status).toBe(303);
      const login = await fetch(`http://127.0.0.1:${ecpPort}/auth/login`, { redirect: 'manual' });
      const authorize = new URL(login.headers.get('location')!);
      expect(authorize.origin).toBe(idp.issuer);
      expect(authorize.searchParams.get('client_id')).toBe('ecp-test');
      expect(authorize.searchParams.get('redirect_uri')).toBe(`http://localhost:${ecpPort}/auth/callback`);
    } finally {
      await portals.close();
    }
    await expect(fetch(`http://127.0.0.1:${eservicePort}/`)).rejects.toThrow();
  });
});
