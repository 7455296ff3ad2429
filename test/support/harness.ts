/**
 * Starts a real connect-iam IdP for a test file: a fresh database (PGlite, or PostgreSQL when the suite runs
 * against `TEST_DATABASE_URL`), a real SMTP capture, the real composition root. No mocks of our own parts.
 */
import * as client from 'openid-client';
import { loadConfig, type Clock, type Config, type Logger } from '../../lib/index.js';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { openTestDatabase } from './database.js';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture.js';

/** A running test deployment. */
export interface TestIdp {
  idp: RunningConnectIam;
  issuer: string;
  smtp: SmtpCapture;
  config: Config;
  /** Creates an organization once and returns its id. */
  organization(name?: string): Promise<string>;
  /** Creates another organization with unique name and participant IDs; returns its id (for tests that need more than 20 accounts). */
  newOrganization(): Promise<string>;
  /** Creates an active account with a password in the test organization. */
  createAccount(input: { userId: string; functions?: string[]; delegatedAdministrator?: boolean; password?: string; email?: string; organization?: string }): Promise<{ id: string; userId: string; email: string; password: string }>;
  /** Registers a first-party confidential client and returns its openid-client Configuration. */
  registerClient(input: { clientId: string; redirectUri: string; postLogoutRedirectUri?: string; initiateLoginUri?: string }): Promise<{ clientId: string; clientSecret: string; rp: client.Configuration }>;
  close(): Promise<void>;
}

/** The password test accounts get unless a test gives one. */
export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * Starts an IdP on 127.0.0.1 with a random port.
 * @param env - extra environment variables (e.g. `{ LOCKOUT_WINDOW_SECONDS: '5' }`).
 * @param options - `clock`: the server's clock (tests move time without sleeping; cookies and oidc-provider keep real time);
 *   `logger`: where the IdP logs (default: silent).
 */
export async function startTestIdp(env: Record<string, string> = {}, options: { clock?: Clock; logger?: Logger } = {}): Promise<TestIdp> {
  const smtp = await startSmtpCapture();
  const database = await openTestDatabase();
  // Lockout tests send bursts of 50 guesses from 127.0.0.1: the per-IP limit and the argon2 queue are raised
  // here; test/sign-in/throttle*.test.ts set their own.
  const throttleRoom = { SIGN_IN_RATE_LIMIT_PER_IP: '10000', PASSWORD_HASH_QUEUE_LIMIT: '10000' };
  // Mail outages in tests last moments: retries come quickly, and a hung SMTP server fails an attempt in 2 s.
  const quickMail = { MAIL_RETRY_INITIAL_SECONDS: '0.2', MAIL_RETRY_MAX_SECONDS: '1', MAIL_POLL_SECONDS: '0.5', SMTP_TIMEOUT_SECONDS: '2' };
  const config = loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', SMTP_URL: smtp.url, LOG_LEVEL: 'silent', DEMO_DATA: 'false', DEMO_PORTALS: 'false', OTP_RESEND_INTERVAL_SECONDS: '1', ...throttleRoom, ...quickMail, ...env });
  const idp = await startConnectIam({ config, database, clock: options.clock, logger: options.logger });
  let organizationId: string | undefined;
  let organizationCount = 0;
  const harness: TestIdp = {
    idp,
    issuer: idp.issuer,
    smtp,
    config: idp.config,
    async organization(name = 'Test Securities Limited') {
      organizationId ??= (await idp.identity.organizations.createOrganization({ name, participantIds: ['B09999', 'CTEST'] }, 'test')).id;
      return organizationId;
    },
    async newOrganization() {
      const n = ++organizationCount;
      return (await idp.identity.organizations.createOrganization({ name: `Test Organization ${n}`, participantIds: [`T${String(n).padStart(5, '0')}`] }, 'test')).id;
    },
    async createAccount(input) {
      const password = input.password ?? TEST_PASSWORD;
      const email = input.email ?? `${input.userId}@example.com`;
      const { account } = await idp.identity.accounts.createAccount(
        { organization: input.organization ?? (await harness.organization()), userId: input.userId, name: `Test ${input.userId}`, email, phone: '+852 5555 0000', functions: input.functions ?? ['EU_UserMaintenance'], delegatedAdministrator: input.delegatedAdministrator ?? false, password },
        'test',
      );
      return { id: account.id, userId: account.userId, email, password };
    },
    async registerClient(input) {
      const created = await idp.clients.create({
        clientId: input.clientId,
        redirectUris: [input.redirectUri],
        postLogoutRedirectUris: input.postLogoutRedirectUri ? [input.postLogoutRedirectUri] : [],
        initiateLoginUri: input.initiateLoginUri,
        firstParty: true,
      });
      const rp = await client.discovery(new URL(idp.issuer), created.clientId, created.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
      return { clientId: created.clientId, clientSecret: created.clientSecret!, rp };
    },
    async close() {
      await idp.close();
      await database.close();
      await smtp.close();
    },
  };
  return harness;
}
