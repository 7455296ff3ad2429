/**
 * Starts the two demo portals, each on its own origin, for `npm start` (server/demo.ts) once the IdP
 * listens: the eService portal (port 3001 by default) and ECP (3002), linked to each other.
 *
 * Their back-channel logout URIs (`<origin>/auth/backchannel-logout`) are on loopback, which the IdP refuses to
 * post to unless the host is in its `BACKCHANNEL_LOGOUT_ALLOWED_HOSTS` (`npm start` adds the demo ports itself).
 */
import http, { type Server } from 'node:http';
import { drainable, type DrainableServer, type DrainResult } from '../server/http-drain.js';
import { createEcp } from './ecp/app.js';
import { createEServicePortal } from './eservice-portal/app.js';

/** One portal's registration at the IdP and where it listens. */
export interface DemoPortalClient {
  port: number;
  clientId: string;
  clientSecret: string;
  /** Public origin; default `http://localhost:<port>` (register `<origin>/auth/callback` and `<origin>/`). */
  baseUrl?: string;
}

/** Options of {@link startDemoPortals}. */
export interface StartDemoPortalsOptions {
  /** The IdP's issuer URL (already listening: the portals discover it at start). */
  issuer: string;
  eservice: DemoPortalClient;
  ecp: DemoPortalClient;
  /** Address to bind, e.g. `127.0.0.1`. */
  host: string;
  /** ≥ 32 characters; each portal derives its own cookie keys from it and its client id. */
  cookieSecret: string;
  /** pino or anything with `warn(obj, msg)`. */
  logger?: { warn(details: object, message: string): void };
  /** Seconds requests in flight may take to finish when {@link DemoPortals.drain} is called (default 20). */
  shutdownGraceSeconds?: number;
}

/** The two running portals. */
export interface DemoPortals {
  /** Stops both servers at once, cutting off open connections. */
  close(): Promise<void>;
  /** Stops both gracefully: listeners close, requests in flight get `shutdownGraceSeconds` to finish. */
  drain(): Promise<DrainResult>;
}

/**
 * Builds both portals, then listens on both ports.
 * @returns `close()`, which stops both servers, and `drain()`, which stops them gracefully.
 * @throws when discovery fails or a port is taken (nothing is left listening).
 */
export async function startDemoPortals(options: StartDemoPortalsOptions): Promise<DemoPortals> {
  const { issuer, cookieSecret, logger } = options;
  const allowInsecureRequests = issuer.startsWith('http:');
  const eserviceUrl = options.eservice.baseUrl ?? `http://localhost:${options.eservice.port}`;
  const ecpUrl = options.ecp.baseUrl ?? `http://localhost:${options.ecp.port}`;
  const common = { issuer, cookieSecret, logger, allowInsecureRequests };
  const eservice = await createEServicePortal({ ...common, ...options.eservice, baseUrl: eserviceUrl, ecpUrl });
  const ecp = await createEcp({ ...common, ...options.ecp, baseUrl: ecpUrl, eservicePortalUrl: eserviceUrl });
  const servers: Server[] = [];
  const drains: DrainableServer[] = [];
  const graceSeconds = options.shutdownGraceSeconds ?? 20;
  try {
    for (const [app, port] of [[eservice, options.eservice.port], [ecp, options.ecp.port]] as const) {
      const server = http.createServer(app);
      drains.push(drainable(server, graceSeconds));
      servers.push(server);
      await listen(server, port, options.host);
    }
  } catch (err) {
    await Promise.all(servers.map(close));
    throw err;
  }
  return {
    close: async () => void (await Promise.all(servers.map(close))),
    drain: async () => ({ abandoned: (await Promise.all(drains.map((d) => d.drain()))).reduce((sum, d) => sum + d.abandoned, 0) }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject).listen(port, host, () => resolve());
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
