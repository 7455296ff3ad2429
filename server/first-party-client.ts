/**
 * Registration of the apps connect-iam ships (demo portals, admin console) as first-party OIDC clients, with the
 * URIs portal-adapters uses: redirect `<origin>/auth/callback`, post-logout `<origin>/`, initiate-login
 * `<origin>/auth/login` (OIDC Core §4), back-channel logout `<origin>/auth/backchannel-logout` (OIDC Back-Channel Logout 1.0).
 */
import type { ClientRecord, ClientStore, NewClient } from '../storage/index.js';

/** A shipped app: its client id, the name people see, and its public origin (no trailing slash). */
export interface FirstPartyApp {
  clientId: string;
  clientName: string;
  origin: string;
}

/** The client registration of `app`. */
function firstPartyClient(app: FirstPartyApp): NewClient {
  return {
    clientId: app.clientId,
    clientName: app.clientName,
    redirectUris: [`${app.origin}/auth/callback`],
    postLogoutRedirectUris: [`${app.origin}/`],
    initiateLoginUri: `${app.origin}/auth/login`,
    backchannelLogoutUri: `${app.origin}/auth/backchannel-logout`,
    firstParty: true,
  };
}

/** Registers `app` as a first-party client. @returns its secret. @throws DomainError `conflict` when the id exists. */
export async function registerFirstPartyClient(clients: ClientStore, app: FirstPartyApp): Promise<string> {
  return secretOf(await clients.create(firstPartyClient(app)));
}

/** The secret of a first-party client (always `client_secret_basic`). @throws Error for a stored client without one. */
function secretOf(client: ClientRecord): string {
  if (client.clientSecret === null) throw new Error(`client ${client.clientId} is registered without a client secret (${client.tokenEndpointAuthMethod})`);
  return client.clientSecret;
}

/**
 * The secret of `app`'s client, registering it first when missing. Safe when instances start together on one
 * database: one `INSERT … ON CONFLICT DO NOTHING` registers it, and every instance reads the one stored secret.
 */
export async function ensureFirstPartyClient(clients: ClientStore, app: FirstPartyApp): Promise<string> {
  return secretOf(await clients.ensure(firstPartyClient(app)));
}
