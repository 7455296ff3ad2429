/**
 * A tiny downstream API for the bench, as its own process: Express 5 with two routes answering the same small
 * JSON, `GET /api` behind portal-adapters' `verifyBearer` (an RFC 9068 JWT access token checked against the
 * IdP's JWKS) and `GET /plain` with no check, the baseline.
 *
 * Environment: `PORT`, `ISSUER`, `CLIENT_ID`, `CLIENT_SECRET` (a client registered at the IdP). Prints one
 * JSON line `{"ready":true}`.
 */
import express from 'express';
import { createPortalAuth } from '../portal-adapters/index.js';

/** The audience of the portal API's access tokens (idp/configuration.ts `PORTAL_API`). */
const AUDIENCE = 'urn:connect-iam:portal-api';
const port = Number(process.env.PORT);
const auth = await createPortalAuth({
  issuer: process.env.ISSUER!,
  clientId: process.env.CLIENT_ID!,
  clientSecret: process.env.CLIENT_SECRET!,
  baseUrl: `http://127.0.0.1:${port}`,
  cookieSecret: 'bench-portal-cookie-secret-of-32-characters',
  allowInsecureRequests: true,
});
const app = express();
app.disable('x-powered-by');
app.get('/api', auth.verifyBearer({ audience: AUDIENCE }), (_req, res) => void res.json({ sub: (res.locals.accessToken as { sub: string }).sub }));
app.get('/plain', (_req, res) => void res.json({ sub: 'plain' }));
const server = app.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ ready: true })));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
