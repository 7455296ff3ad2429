/**
 * The operator operations, as typed functions: the one implementation behind the CLI (server/cli.ts, which only
 * parses arguments and prints) and `createConnectIam().operations` (server/embed.ts), for hosts that provision
 * from code. Each validates its input and throws `DomainError` (`validation_failed` with `fieldErrors`,
 * `not_found`, `conflict`, …) for mistakes; the audit events are the CLI's (`client.created`, `signing_key.rotated`, …).
 */
import type { AccountView, CampaignView, createAccountInput, createCampaignInput, Identity, Organization } from '../identity/index.js';
import { DomainError, type Clock, type Config } from '../lib/index.js';
import { FUNCTION_NAMES, isFunctionName } from '../policies/index.js';
import { resealSecrets, type ClientRecord, type ClientStore, type Database, type NewClient, type ResealCounts, type SigningKeyInfo, type SigningKeyStore } from '../storage/index.js';
import type { z } from 'zod';

/** What the operations run on. */
export interface OperationServices {
  config: Config;
  database: Database;
  identity: Identity;
  clients: ClientStore;
  keys: SigningKeyStore;
  clock: Clock;
}

/** Input of `accounts.create`: the account, its first membership and (optionally) its password. */
export type NewAccount = z.input<typeof createAccountInput>;

/** Input of `campaigns.create`: ISO 8601 times `registeredBefore`, `effectiveFrom` and optionally `skipUntil`. */
export type NewCampaign = z.input<typeof createCampaignInput>;

/** Input of `clients.create`; the client store validates URIs and keys. */
export interface NewClientRegistration {
  clientId: string;
  /** Name shown to people. */
  clientName?: string;
  /** Exact redirect URIs: at least one, except for a service client. */
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** Where the IdP sends people to start sign-in (OIDC Core §4). */
  initiateLoginUri?: string;
  /** Where the IdP posts logout tokens (OIDC Back-Channel Logout 1.0). */
  backchannelLogoutUri?: string;
  /** An application not run by the operator: people are asked for consent. Default false (first-party). */
  thirdParty?: boolean;
  /** A service client (client_credentials, RFC 6749 §4.4) acting for `organization` (id, name or participant ID) with `functions`. */
  service?: { organization: string; functions: string[] };
  /** Resource indicators (RFC 8707) this client is the resource server of: it may introspect their access tokens. */
  servedResources?: string[];
  /** Default `client_secret_basic`; `none` for a public client (PKCE); `private_key_jwt` with `jwks` or `jwksUri` (RFC 7523). */
  tokenEndpointAuthMethod?: NewClient['tokenEndpointAuthMethod'];
  jwks?: NewClient['jwks'];
  jwksUri?: string;
  /** With `none`: may get refresh tokens, only DPoP-bound ones (RFC 9449). */
  allowRefresh?: boolean;
  /** At least 32 characters; generated (256 bits) when omitted. */
  clientSecret?: string;
}

/** A registered client; `clientSecret` is the only time a generated secret is shown, and is absent for `none` and `private_key_jwt`. */
export type RegisteredClient = Omit<ClientRecord, 'clientSecret'> & { clientSecret?: string };

/** A rotated signing key, with the retention and publish-ahead it was rotated with (seconds). */
export type RotatedSigningKey = SigningKeyInfo & { retiring: SigningKeyInfo[]; retainSeconds: number; publishAheadSeconds: number };

/** The operator operations (the CLI's commands). Accounts are named by user ID or email (`login`). */
export interface OperatorOperations {
  organizations: {
    /** Creates an organization. @throws DomainError `validation_failed`, `conflict` (name or participant ID taken). */
    create(input: { name: string; participantIds: string[] }): Promise<Organization>;
    /** Every organization with its participant IDs. */
    list(): Promise<Organization[]>;
  };
  accounts: {
    /** Creates an account with its first membership. @throws DomainError `validation_failed`, `not_found` (organization), `conflict`, `quota_exceeded`. */
    create(input: NewAccount): Promise<{ id: string; userId: string; email: string; memberships: AccountView['memberships'] }>;
    /** Clears the lockout. @throws DomainError `not_found`. */
    unlock(login: string): Promise<{ userId: string; wasLocked: boolean }>;
    /** Grants the operator role (the console's operator screens). @throws DomainError `not_found`. */
    grantOperator(login: string): Promise<{ userId: string; operator: true; changed: boolean }>;
    /** Revokes the operator role; `changed` is false when the account did not hold it. @throws DomainError `not_found`. */
    revokeOperator(login: string): Promise<{ userId: string; operator: false; changed: boolean }>;
    /**
     * Resets the account's second factor: removes its authenticator app (`removed`: it had one) and its passkeys
     * (`passkeysRemoved`, `passkeyNames`); the person falls back to emailed codes and is emailed. @throws DomainError `not_found`.
     */
    resetFactor(login: string): Promise<{ userId: string; removed: boolean; passkeysRemoved: number; passkeyNames: string[] }>;
  };
  clients: {
    /** Registers a client and publishes `client.created`. @throws DomainError `validation_failed` (fieldErrors), `conflict`, `not_found` (service organization). */
    create(input: NewClientRegistration): Promise<RegisteredClient>;
  };
  keys: {
    /**
     * Publishes a new signing key; it signs after SIGNING_KEY_PUBLISH_AHEAD_SECONDS, or at once with `now`
     * (relying parties caching the old JWKS may then fail to verify for up to its max-age). Publishes `signing_key.rotated`.
     */
    rotate(options?: { now?: boolean }): Promise<RotatedSigningKey>;
  };
  campaigns: {
    /** Creates an authenticator re-registration campaign. @throws DomainError `validation_failed`. */
    create(input: NewCampaign): Promise<CampaignView>;
    /** Every re-registration campaign with its progress (affected, re-registered, skipped). */
    list(): Promise<CampaignView[]>;
    /** @throws DomainError `not_found`. */
    close(id: string): Promise<CampaignView>;
  };
  secrets: {
    /** Re-encrypts sealed secrets under ENCRYPTION_KEY (after a key rotation; PREVIOUS_ENCRYPTION_KEYS holds the old key). */
    reseal(): Promise<ResealCounts>;
  };
}

/** The operations on `services`; `actor` names who acts in the audit log (the CLI: `operator-cli`). */
export function createOperations(services: OperationServices, actor: string): OperatorOperations {
  const { identity, clients, keys, config, clock } = services;
  const byLogin = async (login: string): Promise<AccountView> => identity.accounts.getAccountByLogin(login);
  const setOperator = async <O extends boolean>(login: string, operator: O) => {
    const { account } = await byLogin(login);
    const changed = await identity.accounts.setOperator(account.id, operator, actor);
    return { userId: account.userId, operator, changed };
  };
  return {
    organizations: {
      create: (input) => identity.organizations.createOrganization(input, actor),
      list: () => identity.organizations.listOrganizations(),
    },
    accounts: {
      async create(input) {
        const { account, memberships } = await identity.accounts.createAccount(input, actor);
        return { id: account.id, userId: account.userId, email: account.email, memberships };
      },
      async unlock(login) {
        const { account } = await byLogin(login);
        return { userId: account.userId, wasLocked: await identity.accounts.unlockAccount(account.id, actor) };
      },
      grantOperator: (login) => setOperator(login, true as const),
      revokeOperator: (login) => setOperator(login, false as const),
      async resetFactor(login) {
        const { account } = await byLogin(login);
        const { removed, passkeysRemoved, passkeyNames } = await identity.changeRequests.resetSecondFactorDirectly(actor, account.id);
        return { userId: account.userId, removed, passkeysRemoved, passkeyNames };
      },
    },
    clients: {
      async create(input) {
        const service = input.service;
        const unknown = (service?.functions ?? []).filter((f) => !isFunctionName(f));
        if (unknown.length) throw new DomainError('validation_failed', `Unknown function ${unknown.join(', ')}. Known: ${FUNCTION_NAMES.join(', ')}.`, { fieldErrors: { functions: [`Unknown function ${unknown.join(', ')}.`] } });
        const organization = service ? await identity.organizations.getOrganization(service.organization) : null;
        const grant = organization ? { organizationId: organization.id, functions: service!.functions } : undefined;
        const created = await clients.create({
          clientId: input.clientId, clientSecret: input.clientSecret, clientName: input.clientName, redirectUris: input.redirectUris ?? [], postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
          initiateLoginUri: input.initiateLoginUri, backchannelLogoutUri: input.backchannelLogoutUri, firstParty: !input.thirdParty && !service, service: grant,
          servedResources: input.servedResources ?? [], tokenEndpointAuthMethod: input.tokenEndpointAuthMethod, jwks: input.jwks, jwksUri: input.jwksUri, allowRefresh: input.allowRefresh,
        });
        const method = created.tokenEndpointAuthMethod;
        const data = grant
          ? { clientId: created.clientId, service: true, organization: grant.organizationId, functions: grant.functions }
          : { clientId: created.clientId, redirectUris: created.redirectUris, firstParty: created.firstParty };
        const served = input.servedResources?.length ? { servedResources: input.servedResources } : {};
        await identity.events.publish({ type: 'client.created', actor, organizationId: grant?.organizationId ?? null, data: { ...data, tokenEndpointAuthMethod: method, ...served } }, clock.now());
        if (method !== 'none' && method !== 'private_key_jwt') return created;
        const { clientSecret: _secret, ...shown } = created;
        return shown;
      },
    },
    keys: {
      async rotate(options = {}) {
        const retainSeconds = Math.max(config.ttl.accessTokenSeconds, config.ttl.idTokenSeconds, config.ttl.refreshTokenSeconds);
        const publishAheadSeconds = options.now ? 0 : config.signingKeyPublishAheadSeconds;
        const rotated = await keys.rotate(clock.now(), { retainSeconds, publishAheadSeconds });
        await identity.events.publish({ type: 'signing_key.rotated', actor, data: { kid: rotated.kid, retainSeconds, publishAheadSeconds } }, clock.now());
        return { ...rotated, retainSeconds, publishAheadSeconds };
      },
    },
    campaigns: {
      create: (input) => identity.campaigns.createCampaign(input, actor),
      list: () => identity.campaigns.listCampaigns(),
      close: (id) => identity.campaigns.closeCampaign(id, actor),
    },
    secrets: {
      reseal: () => resealSecrets(services.database.db, { current: config.encryptionKey, previous: config.previousEncryptionKeys }),
    },
  };
}
