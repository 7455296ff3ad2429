/**
 * A host application that embeds connect-iam: one Express 5 app on one port serves the IdP at /idp, the admin
 * console at /admin, and its own pages at /app, which it protects with @connect-iam/portal-adapters — a client
 * of the IdP it hosts. Plain JavaScript, using the published packages only (see README.md in this folder).
 *
 * Environment: PORT (8080), HOST (127.0.0.1), PUBLIC_URL (http://localhost:PORT), APP_CLIENT_SECRET and
 * APP_COOKIE_SECRET (each ≥ 32 characters; development defaults outside production), and any connect-iam setting
 * (docs/configuration.md: DATABASE_URL, SMTP_URL, COOKIE_KEYS, ENCRYPTION_KEY, NODE_ENV, …). ISSUER and
 * ADMIN_CONSOLE_URL follow from PUBLIC_URL. SIGTERM or SIGINT stops it.
 */
import { once } from 'node:events';
import express from 'express';
import { createConnectIam } from 'connect-iam';
import { createPortalAuth } from '@connect-iam/portal-adapters';

const port = Number(process.env.PORT ?? 8080);
const baseUrl = (process.env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
const production = process.env.NODE_ENV === 'production';
const devSecret = (name) => {
  if (production) throw new Error(`${name} is required in production`);
  return `${name}-development-only-not-a-secret`;
};
const clientSecret = process.env.APP_CLIENT_SECRET ?? devSecret('APP_CLIENT_SECRET');
const cookieSecret = process.env.APP_COOKIE_SECRET ?? devSecret('APP_COOKIE_SECRET');

// The IdP and the console, configured like the server (the same settings), mounted below at their URLs' paths.
const iam = await createConnectIam({
  config: { ...process.env, ISSUER: `${baseUrl}/idp`, ADMIN_CONSOLE_URL: `${baseUrl}/admin`, DEMO_DATA: false, DEMO_PORTALS: false },
});

// This app is a client of the IdP it hosts: registered from code on the first start.
const clientId = 'embedded-host';
try {
  await iam.operations.clients.create({
    clientId, clientSecret, clientName: 'Embedded host',
    redirectUris: [`${baseUrl}/auth/callback`], postLogoutRedirectUris: [`${baseUrl}/`], initiateLoginUri: `${baseUrl}/auth/login`,
  });
} catch (error) {
  if (error?.code !== 'conflict') throw error; // registered by an earlier start
}

const app = express();
app.use('/idp', iam.idp);
app.use('/admin', iam.adminConsole);
const server = app.listen(port, process.env.HOST ?? '127.0.0.1');
await once(server, 'listening');

// Discovery needs the IdP listening: the adapters come once the port is open.
const auth = await createPortalAuth({
  issuer: iam.issuer, clientId, clientSecret, baseUrl, cookieSecret,
  cookieName: 'host_session', allowInsecureRequests: baseUrl.startsWith('http:'),
});
app.use(auth.router); // /auth/login, /auth/callback, /auth/logout, /auth/backchannel-logout
app.get('/', (req, res) => res.send('<p><a href="/app">the app</a> · <a href="/admin/">admin console</a> · <a href="/idp/account">your account</a></p>'));
app.get('/app', auth.requireAuth(), (req, res) => {
  const { sub, name, email, organization, functions } = res.locals.session;
  res.json({ app: 'embedded-host', sub, name, email, organization, functions });
});
app.get('/app/user-maintenance', auth.requireFunction('EU_UserMaintenance'), (req, res) => res.json({ page: 'user maintenance' }));
app.get('/app/reports', auth.requireFunction('EU_ECPReportDownload'), (req, res) => res.json({ page: 'reports' }));
console.log(`embedded host listening on ${baseUrl}: /app, /admin/, /idp (issuer ${iam.issuer})`);

const stop = async () => {
  server.close();
  server.closeAllConnections();
  await iam.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
