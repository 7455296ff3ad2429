/**
 * OIDC Back-Channel Logout 1.0 when an account's grants and sessions were ended outside a browser: a suspension
 * or closure (maker-checker) or a password reset (design/security.md §9), or a change of functions, which
 * revokes the grants that released them (docs/policies.md). Once the change has committed, its
 * audit event names the clients that held a grant or session (`data.clients`); each of them that registered a
 * `backchannel_logout_uri` gets a logout token from oidc-provider's own `client.backchannelLogout`.
 *
 * The token names the subject only, without `sid` (§2.4: "all sessions of this End-User at the RP"): every
 * session of the account ended, whichever browser it was in. RP-initiated logout needs none of this —
 * oidc-provider notifies the session's other clients itself, with `sid`. A failure to notify is logged and never
 * fails the change; each request gives up after oidc-provider's 2.5-second timeout.
 */
import type { AuditEvent, EventBus } from '../identity/index.js';
import type { Logger } from '../lib/index.js';
import type { OidcContext, OidcClient, Provider } from './oidc.js';

/** The events after which an account holds no session or grant anywhere. */
export const SESSIONS_ENDED_EVENTS: ReadonlySet<string> = new Set(['account.suspended', 'account.closed', 'password_reset.completed']);

/**
 * The events after which the account's grants that released its functions were revoked while its IdP session
 * stays (docs/policies.md): the clients in `data.clients` drop their copies and sign the person in again.
 */
export const FUNCTIONS_CHANGED_EVENTS: ReadonlySet<string> = new Set(['account.functions_changed']);

/**
 * The events after which the account's other sessions ended while the one the change was made from stays (a
 * password change, an app removed or replaced on the account page; identity/accounts/end-other-sessions.ts): each
 * ended session's clients get a logout token with that session's `sid` (`data.logouts`), so the portals end those
 * sessions only.
 */
export const OTHER_SESSIONS_ENDED_EVENTS: ReadonlySet<string> = new Set(['account.password_changed', 'authenticator.removed', 'authenticator.registered']);

/** The `{ clientId, sid }` entries of an event's `data.logouts`, or an empty list. */
function logoutsOf(event: AuditEvent): { clientId: string; sid: string }[] {
  const logouts = event.data.logouts;
  return Array.isArray(logouts) ? logouts.filter((l): l is { clientId: string; sid: string } => typeof l?.clientId === 'string' && typeof l?.sid === 'string') : [];
}

/**
 * Sends each of `logouts` a logout token for `accountId` naming that session's `sid` (§2.4), when its client
 * registered a `backchannel_logout_uri`. Never rejects: failures are logged with the client id.
 */
export async function sendSessionLogouts(provider: Provider, logger: Logger, accountId: string, logouts: readonly { clientId: string; sid: string }[]): Promise<void> {
  await Promise.all(
    logouts.map(async ({ clientId, sid }) => {
      try {
        const client: OidcClient | undefined = await provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri) return;
        await client.backchannelLogout(accountId, sid);
        logger.info({ clientId, accountId }, 'back-channel logout sent');
      } catch (err) {
        logger.warn({ err, clientId, accountId }, 'back-channel logout failed');
      }
    }),
  );
}

/** The client ids of an event's `data.clients`, or an empty list. */
function clientsOf(event: AuditEvent): string[] {
  const clients = event.data.clients;
  return Array.isArray(clients) ? clients.filter((c): c is string => typeof c === 'string') : [];
}

/**
 * Sends a logout token for `accountId` to each of `clientIds` that registered a `backchannel_logout_uri`.
 * Never rejects: failures (unknown client, network, non-200 answer) are logged with the client id.
 * @returns the client ids that acknowledged the logout token.
 */
export async function sendBackChannelLogouts(provider: Provider, logger: Logger, accountId: string, clientIds: readonly string[]): Promise<string[]> {
  const results = await Promise.all(
    clientIds.map(async (clientId) => {
      try {
        const client: OidcClient | undefined = await provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri) return null;
        await client.backchannelLogout(accountId, undefined);
        logger.info({ clientId, accountId }, 'back-channel logout sent');
        return clientId;
      } catch (err) {
        logger.warn({ err, clientId, accountId }, 'back-channel logout failed');
        return null;
      }
    }),
  );
  return results.filter((c): c is string => c !== null);
}

/**
 * Subscribes to `events` (once per process: the provider is rebuilt when signing keys change, so `provider()`
 * returns the current one): after {@link SESSIONS_ENDED_EVENTS} and {@link FUNCTIONS_CHANGED_EVENTS} the account's clients get a logout token. The
 * subscriber awaits the sending (bounded by the timeout above) so the change's answer comes after the portals
 * were told, and swallows every failure.
 */
export function notifyClientsOnSessionsEnded(provider: () => Provider, events: EventBus, logger: Logger): void {
  events.subscribe(async (event) => {
    if (!(SESSIONS_ENDED_EVENTS.has(event.type) || FUNCTIONS_CHANGED_EVENTS.has(event.type)) || !event.accountId) return;
    const clients = clientsOf(event);
    if (clients.length) await sendBackChannelLogouts(provider(), logger, event.accountId, clients);
  });
  events.subscribe(async (event) => {
    if (!OTHER_SESSIONS_ENDED_EVENTS.has(event.type) || !event.accountId) return;
    const logouts = logoutsOf(event);
    if (logouts.length) await sendSessionLogouts(provider(), logger, event.accountId, logouts);
  });
}

/** Logs oidc-provider's own `backchannel.*` events: the logout tokens RP-initiated logout sends. */
export function logBackChannelEvents(provider: Provider, logger: Logger): void {
  provider.on('backchannel.success', (_ctx: OidcContext, client: OidcClient) => logger.info({ clientId: client.clientId }, 'back-channel logout sent'));
  provider.on('backchannel.error', (_ctx: OidcContext, err: Error, client: OidcClient) => logger.warn({ err, clientId: client.clientId }, 'back-channel logout failed'));
}
