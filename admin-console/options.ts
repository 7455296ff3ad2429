/**
 * Options of {@link createAdminConsole} and the per-request context its handlers share.
 */
import type { Identity, Organization } from '../identity/index.js';
import type { PortalSession } from '../portal-adapters/index.js';
import type { ClientRegistry } from './operator-clients.js';

/** Options of `createAdminConsole`. */
export interface AdminConsoleOptions {
  /** The identity services, used in-process (memberships, change requests, accounts). */
  identity: Identity;
  /** The IdP's issuer URL (already listening: the console discovers it at start). */
  issuer: string;
  /** The console's client at the IdP (first-party, `client_secret_basic`). */
  clientId: string;
  clientSecret: string;
  /** The console's public origin, e.g. `http://localhost:3003`. Register `<baseUrl>/auth/callback` and `<baseUrl>/`. */
  baseUrl: string;
  /** ≥ 32 characters; the session cookie keys are derived from it and the client id. */
  cookieSecret: string;
  /** IANA time zone of times on screen (default `UTC`), e.g. `Asia/Hong_Kong`. */
  timeZone?: string;
  /** The registered OIDC clients, for the operator's application screens (`/operator/applications`; 404 without it). */
  clients?: ClientRegistry;
  /** Only for an `http:` issuer (development, tests). */
  allowInsecureRequests?: boolean;
  /** Receives failures; default `console.warn`. */
  logger?: { warn(details: object, message: string): void };
}

/** Who is administering what, set on `res.locals.admin` by the gate for every console page. */
export interface AdminContext {
  session: PortalSession;
  /** The acting delegated administrator, as the change request service wants it. */
  actor: { accountId: string; ip: string | null };
  /** The organization being administered (one of `organizations`). */
  organization: Organization;
  /** Every organization the account administers. */
  organizations: Organization[];
  /** The on-screen notification count (to check + returned). */
  taskCount: number;
  timeZone: string;
}
