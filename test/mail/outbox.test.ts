import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/index.js';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { openTestDatabase } from '../support/database.js';
import { textOf } from '../support/user-agent.js';

describe('mail without an SMTP server: the outbox folder and /dev/outbox', () => {
  let dataDir: string;
  let idp: RunningConnectIam;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'connect-iam-outbox-'));
    database = await openTestDatabase();
    const config = loadConfig({ NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', DEMO_DATA: 'false', DEMO_PORTALS: 'false' });
    idp = await startConnectIam({ config, database });
  });
  afterAll(async () => {
    await idp?.close();
    await database?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes each mail as an .eml file and shows it at /dev/outbox so a newcomer finds the code', async () => {
    const org = await idp.identity.organizations.createOrganization({ name: 'Outbox Ltd', participantIds: ['OUT01'] }, 'test');
    const { account } = await idp.identity.accounts.createAccount({ organization: org.id, userId: 'outbox.user', name: 'Outbox User', email: 'outbox.user@example.com', phone: '+852 5555 0000' }, 'test');
    await idp.identity.emailOtp.send(account, 'interaction-1');
    // The code goes through the database outbox; the worker writes the file right after.
    await idp.identity.mailDelivery.idle();
    const files = await readdir(path.join(dataDir, 'outbox'));
    expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(1);

    const response = await fetch(`${idp.issuer}/dev/outbox`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = textOf(await response.text());
    expect(text).toContain('outbox.user@example.com');
    expect(text).toContain('connect-iam: your sign-in code');
    expect(text).toMatch(/sign-in code is \d{6}/);
  });

  it('lists the links of a mail whole (decoded, not quoted-printable), so a reset link can be followed from /dev/outbox', async () => {
    const org = await idp.identity.organizations.createOrganization({ name: 'Outbox Links Ltd', participantIds: ['OUT02'] }, 'test');
    await idp.identity.accounts.createAccount({ organization: org.id, userId: 'outbox.reset', name: 'Outbox Reset', email: 'outbox.reset@example.com', phone: '+852 5555 0199' }, 'test');
    await idp.identity.recovery.requestReset({ login: 'outbox.reset', phone: '85255550199' }, (token) => `${idp.issuer}/password/reset/${token}`);
    await idp.identity.recovery.idle();
    await idp.identity.mailDelivery.idle();
    const html = await (await fetch(`${idp.issuer}/dev/outbox`)).text();
    const link = new RegExp(`href="(${idp.issuer.replace(/[.]/g, '\\.')}/password/reset/[A-Za-z0-9_-]{40,})"`).exec(html)?.[1];
    expect(link).toBeDefined();
    const form = await fetch(link!);
    expect(form.status).toBe(200);
    expect(textOf(await form.text())).toContain('New password');
  });
});

describe('/dev/outbox security headers', () => {
  it('are those of every IdP page: the same CSP, no framing, nosniff, no referrer; and its style is not inline', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'connect-iam-outbox-headers-'));
    const database = await openTestDatabase();
    const config = loadConfig({ NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', DEMO_DATA: 'false', DEMO_PORTALS: 'false' });
    const idp = await startConnectIam({ config, database });
    try {
      const outbox = await fetch(`${idp.issuer}/dev/outbox`);
      const home = await fetch(`${idp.issuer}/`);
      expect(outbox.status).toBe(200);
      const names = ['content-security-policy', 'x-frame-options', 'x-content-type-options', 'referrer-policy', 'cross-origin-opener-policy'];
      const of = (response: Response) => Object.fromEntries(names.map((n) => [n, response.headers.get(n)]));
      expect(of(outbox)).toEqual(of(home));
      expect(outbox.headers.get('content-security-policy')).toContain("style-src 'self'");
      expect(outbox.headers.get('x-frame-options')).toBe('DENY');
      const html = await outbox.text();
      expect(html).not.toContain('<style');
      const css = await fetch(`${idp.issuer}/dev/outbox.css`);
      expect(css.status).toBe(200);
      expect(css.headers.get('content-type')).toMatch(/^text\/css/);
      expect(css.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      await idp.close();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('/dev/outbox in production', () => {
  it('is not served', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'connect-iam-outbox-prod-'));
    const database = await openTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'production',
      ADMIN_CONSOLE_URL: 'https://admin.example.com',
      ISSUER: 'https://id.example.com',
      COOKIE_KEYS: 'p'.repeat(40),
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    });
    const idp = await startConnectIam({ config, database });
    try {
      const response = await fetch(`http://127.0.0.1:${idp.config.port}/dev/outbox`, { redirect: 'manual' });
      expect(response.status).toBe(404);
    } finally {
      await idp.close();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
