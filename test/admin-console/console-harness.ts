/**
 * The admin console against a real test IdP: registers the `admin-console` client on a free port, builds the
 * console and listens. `cookieFor` seals a console session exactly as `/auth/callback` would (for HTTP-level
 * tests that need no browser sign-in).
 */
import { registerFirstPartyClient } from '../../server/first-party-client.js';
import type { Server } from 'node:http';
import type express from 'express';
import { createAdminConsole } from '../../admin-console/index.js';
import { createSessionCodec } from '../../portal-adapters/index.js';
import { freePort } from '../support/browser.js';
import type { TestIdp } from '../support/harness.js';

/** Cookie secret of the console in tests. */
export const CONSOLE_COOKIE_SECRET = 'an-admin-console-test-secret-of-32-chars!';

/** A running console. */
export interface TestConsole {
  app: express.Express;
  url: string;
  /** `admin_session=<sealed>` for the account, with `csrfToken` as the session's CSRF token. */
  cookieFor(account: { id: string; userId: string }, csrfToken?: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the console for `t`'s IdP; `timeZone` as the deployment's (default UTC). */
export async function startTestConsole(t: TestIdp, options: { timeZone?: string } = {}): Promise<TestConsole> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const client = { clientId: 'admin-console', clientSecret: await registerFirstPartyClient(t.idp.clients, { clientId: 'admin-console', clientName: 'Admin console', origin: url }) };
  const app = await createAdminConsole({ identity: t.idp.identity, clients: t.idp.clients, issuer: t.issuer, clientId: client.clientId, clientSecret: client.clientSecret, baseUrl: url, cookieSecret: CONSOLE_COOKIE_SECRET, allowInsecureRequests: true, timeZone: options.timeZone, logger: { warn: () => {} } });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const codec = createSessionCodec({ cookieSecret: CONSOLE_COOKIE_SECRET, clientId: client.clientId });
  return {
    app,
    url,
    async cookieFor(account, csrfToken = 'test-csrf-token') {
      const sealed = await codec.seal({ sub: account.id, name: `Test ${account.userId}`, email: null, organization: null, functions: [], amr: ['pwd', 'otp'], idToken: 'unused', csrfToken }, 600);
      return `admin_session=${encodeURIComponent(sealed)}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
