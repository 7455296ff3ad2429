/**
 * Registration of the apps connect-iam ships (demo portals, admin console) as first-party OIDC clients, with the
 * URIs portal-adapters uses: redirect `<origin>/auth/callback`, post-logout `<origin>/`, initiate-login
 * `<origin>/auth/login` (OIDC Core §4), back-channel logout `<origin>/auth/backchannel-logout` (OIDC Back-Channel Logout 1.0).
 */
import type { ClientStore } from '../storage/index.js';

/** A shipped app: its client id, the name people see, and its public origin (no trailing slash). */
export interface FirstPartyApp {
  clientId: string;
  clientName: string;
  origin: string;
}

/** Registers `app` as a first-party client. @returns its secret. @throws DomainError `conflict` when the id exists. */
export async function registerFirstPartyClient(clients: ClientStore, app: FirstPartyApp): Promise<string> {
  const created = await clients.create({
    clientId: app.clientId,
    clientName: app.clientName,
    redirectUris: [`${app.origin}/auth/callback`],
    postLogoutRedirectUris: [`${app.origin}/`],
    initiateLoginUri: `${app.origin}/auth/login`,
    backchannelLogoutUri: `${app.origin}/auth/backchannel-logout`,
    firstParty: true,
  });
  return created.clientSecret!;
}

/** The secret of `app`'s client, registering it first when missing. */
export async function ensureFirstPartyClient(clients: ClientStore, app: FirstPartyApp): Promise<string> {
  return (await clients.find(app.clientId))?.clientSecret ?? registerFirstPartyClient(clients, app);
}
