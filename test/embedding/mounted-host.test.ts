/**
 * createConnectIam embedded in an Express host on one port: the IdP mounted at /idp, the admin console at /admin.
 * Provisioned through the operator operations; a relying party signs in through the mounted IdP with openid-client
 * (discovery, password, emailed code through the nodemailer transport option, userinfo); a real browser follows
 * the console and a password-reset email link, and every cookie, link and redirect carries its prefix. The audit
 * hook sees committed events; a host's pg.Pool (PostgreSQL project) is used and left open by close().
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import express from 'express';
import * as client from 'openid-client';
import pg from 'pg';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectIam, type AuditEvent, type ConnectIam } from '../../server/embed.js';
import { freePort, launchBrowser, signInWithEmailCode } from '../support/browser.js';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js';
import { UserAgent } from '../support/user-agent.js';

const PASSWORD = 'correct horse battery staple';

describe('connect-iam embedded in an Express host under /idp and /admin', () => {
  let iam: ConnectIam;
  let host: http.Server;
  let origin: string;
  let smtp: SmtpCapture;
  let browser: Browser;
  let pool: pg.Pool | undefined;
  let dataDir: string;
  let disposeDatabase: () => Promise<void>;
  const events: AuditEvent[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    dataDir = await mkdtemp(path.join(tmpdir(), 'connect-iam-embed-'));
    const separate = await separateProcessDatabase();
    disposeDatabase = separate.dispose;
    // The PostgreSQL project hands over a pool of the host's; the PGlite project uses the embedded database in DATA_DIR.
    pool = usingPostgresServer ? new pg.Pool({ connectionString: separate.env.DATABASE_URL, max: 5 }) : undefined;
    // As a host must: node-postgres emits an idle connection's loss on the pool (here the test database dropped
    // with force while pool.end()'s connections are still closing); unheard, it is an uncaught exception.
    pool?.on('error', () => undefined);
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _encoding, done) => void (logLines.push(String(chunk)), done()) }));
    iam = await createConnectIam({
      config: {
        NODE_ENV: 'test', ISSUER: `${origin}/idp`, ADMIN_CONSOLE_URL: `${origin}/admin`, DATA_DIR: separate.env.DATA_DIR ?? dataDir,
        SIGN_IN_RATE_LIMIT_PER_IP: 10000, MAIL_POLL_SECONDS: 0.5, MAIL_RETRY_INITIAL_SECONDS: 0.2,
      },
      database: pool,
      mailTransport: { url: smtp.url },
      logger,
      onAuditEvent: [
        (event) => void events.push(event),
        () => {
          throw new Error('the SIEM is down');
        },
      ],
    });
    const app = express();
    app.get('/', (_req, res) => void res.send('the host'));
    app.use('/idp', iam.idp);
    app.use('/admin', iam.adminConsole);
    app.use((_req, res) => void res.status(404).send('host 404'));
    host = http.createServer(app);
    await new Promise<void>((resolve) => host.listen(port, '127.0.0.1', resolve));
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    host?.closeAllConnections();
    await new Promise((resolve) => host?.close(resolve));
    await iam?.close();
    if (pool) {
      // close() left the host's pool open: it still answers.
      expect((await pool.query('select 1 as one')).rows[0]).toEqual({ one: 1 });
      await pool.end();
    }
    await smtp?.close();
    await disposeDatabase?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function provision(userId: string, options: { operator?: boolean } = {}) {
    const email = `${userId}@example.com`;
    const organizations = await iam.operations.organizations.list();
    const organization = organizations[0] ?? (await iam.operations.organizations.create({ name: 'Embedded Securities', participantIds: ['B07777'] }));
    await iam.operations.accounts.create({ organization: organization.id, userId, name: `Test ${userId}`, email, phone: '+852 5555 0101', functions: ['EU_UserMaintenance'], delegatedAdministrator: true, password: PASSWORD });
    if (options.operator) await iam.operations.accounts.grantOperator(userId);
    return { userId, email, password: PASSWORD };
  }

  it('discovers the issuer at /idp, signs in with password and emailed code, and answers userinfo', async () => {
    const user = await provision('embed.rp');
    const redirectUri = `${origin}/app/callback`;
    const registered = await iam.operations.clients.create({ clientId: 'embedded-app', redirectUris: [redirectUri] });
    const rp = await client.discovery(new URL(`${origin}/idp`), registered.clientId, registered.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    expect(rp.serverMetadata()).toMatchObject({ issuer: `${origin}/idp`, authorization_endpoint: `${origin}/idp/auth`, token_endpoint: `${origin}/idp/token` });

    const ua = new UserAgent();
    const auth = await startAuthorization(rp, redirectUri);
    const callback = await signInToCallback({ ua, auth, login: user.userId, password: user.password, email: user.email, smtp });
    const tokens = await redeem(rp, callback, auth);
    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo).toMatchObject({ sub: tokens.claims()!.sub, email: user.email });
    // The session cookie is the IdP's, scoped to its path.
    const cookies = await ua.jar.getCookies(`${origin}/idp/`);
    expect(cookies.find((c) => c.key === '_session')?.path).toBe('/idp');
    expect(await ua.jar.getCookies(`${origin}/`)).toEqual([]);
  });

  it('passes committed audit events to the hooks; a failing hook is logged and changes nothing', async () => {
    await expect.poll(() => events.map((e) => e.type)).toEqual(expect.arrayContaining(['organization.created', 'account.created', 'client.created', 'account.signed_in']));
    const created = events.find((e) => e.type === 'client.created')!;
    expect(created).toMatchObject({ actor: 'operator-api', data: { clientId: 'embedded-app' } });
    expect(logLines.some((line) => line.includes('an audit event hook failed') && line.includes('the SIEM is down'))).toBe(true);
    expect((await iam.operations.organizations.list()).map((o) => o.name)).toContain('Embedded Securities');
  });

  it('serves the console under /admin in a browser: sign-in round trip, links, forms and cookies carry the prefix', async () => {
    const user = await provision('embed.da', { operator: true });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/admin/`);
    await page.waitForURL((url) => url.pathname.startsWith('/idp/interaction/'));
    await signInWithEmailCode(page, smtp, user);
    await page.waitForURL((url) => url.pathname.startsWith('/admin') && !url.pathname.startsWith('/admin/auth/'));
    expect(new URL(page.url()).pathname).toBe('/admin/');

    // Every root-relative link and form on the page is under /admin, and the stylesheet loads from there.
    const urls = await page.$$eval('a[href], form[action], link[href]', (els) => els.map((e) => e.getAttribute('href') ?? e.getAttribute('action') ?? ''));
    const rootRelative = urls.filter((u) => u.startsWith('/'));
    expect(rootRelative.length).toBeGreaterThan(5);
    expect(rootRelative.filter((u) => !u.startsWith('/admin/'))).toEqual([]);
    const stylesheet = await page.$eval('link[rel=stylesheet]', (link) => link.getAttribute('href'));
    expect(stylesheet).toBe('/admin/static/console.css');
    expect((await page.request.get(`${origin}${stylesheet}`)).headers()['content-type']).toMatch(/^text\/css/);

    await page.getByRole('link', { name: 'Accounts', exact: true }).click();
    await page.waitForURL(`${origin}/admin/accounts`);
    await expect.poll(() => page.getByText(user.userId, { exact: true }).count()).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'Sent to operator' }).click();
    await page.waitForURL(`${origin}/admin/operator/requests`);
    // A redirect of the console's own (GET /operator → /operator/requests) keeps the prefix.
    const redirect = await page.request.get(`${origin}/admin/operator`, { maxRedirects: 0 });
    expect(redirect.headers().location).toBe('/admin/operator/requests');

    const cookies = await context.cookies();
    const byName = Object.fromEntries(cookies.map((c) => [c.name, c.path]));
    expect(byName).toMatchObject({ admin_session: '/admin', _session: '/idp' });
    expect(cookies.filter((c) => !c.path.startsWith('/admin') && !c.path.startsWith('/idp'))).toEqual([]);

    // Signing out: the console's form posts under /admin and the IdP's logout page is under /idp.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/idp/') || url.pathname.startsWith('/admin'));
    expect((await context.cookies()).find((c) => c.name === 'admin_session')).toBeUndefined();
    await context.close();
  });

  it('emails a password-reset link under /idp that a browser follows to set a new password', async () => {
    const user = await provision('embed.reset');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/idp/password/forgot`);
    await page.getByLabel('User ID or email').fill(user.userId);
    await page.getByLabel('Mobile phone number').fill('+852 5555 0101');
    const since = smtp.messages.length;
    await page.getByRole('button', { name: 'Send reset link' }).click();
    const mail = await smtp.waitFor(user.email, { since, predicate: (m) => m.subject.includes('Forgotten password') });
    const link = /https?:\/\/[^\s<>"]+/.exec(mail.text)?.[0];
    expect(link?.startsWith(`${origin}/idp/password/`)).toBe(true);
    await page.goto(link!);
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase for embedding');
    await page.getByLabel('Confirm new password').fill('a brand new passphrase for embedding');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Password changed' }).count()).toBe(1);
    expect(new URL(page.url()).pathname.startsWith('/idp/')).toBe(true);
    await context.close();
  });

  it('leaves the host its other routes', async () => {
    expect(await (await fetch(`${origin}/`)).text()).toBe('the host');
    expect(await (await fetch(`${origin}/elsewhere`)).text()).toBe('host 404');
  });
});
