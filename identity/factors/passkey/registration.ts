/**
 * Registering and removing passkeys on the account page (W3C WebAuthn Level 3 §7.1, "Registering a new
 * credential"), with @simplewebauthn/server:
 *
 * 1. {@link PasskeyService.beginRegistration} issues creation options for the signed-in account: RP ID and
 *    origin from `ISSUER` (relying-party.ts), a discoverable credential preferred (`residentKey: 'preferred'`),
 *    user verification required, attestation `none` (the AAGUID in the authenticator data is still recorded
 *    when it is not all zeroes), the account's passkeys excluded. The challenge is stored server-side, bound to
 *    the IdP session and the account, for `challengeTtlSeconds`.
 * 2. {@link PasskeyService.completeRegistration} consumes that challenge (one use: a failed answer spends it too)
 *    and verifies the browser's answer: type `webauthn.create`, challenge, origin, RP ID hash, user presence
 *    and verification, the public key algorithm. Then the passkey is stored under the name the holder gave it.
 *
 * Every registration and removal emails the account holder and publishes `passkey.registered` or
 * `passkey.removed`. Signing in with a passkey is authentication.ts.
 */
// @simplewebauthn/server (with @peculiar/x509 and its ASN.1 stack, about 4 MiB of heap) is loaded at the first
// ceremony (`await import`): an idle IdP never needs it.
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { DomainError, newId, validationError, type Clock, type Mailer } from '../../../lib/index.js';
import { notifyAccountHolder } from '../../authenticators/notify.js';
import type { EventBus } from '../../events.js';
import type { Account } from '../../model.js';
import type { AccountStore, LockoutPolicy, LockoutStore } from '../../stores.js';
import { createPasskeyAuthentication, type PasskeyAuthentication } from './authentication.js';
import { PASSKEY_NAME_MAX_LENGTH, type Passkey, type PasskeyTransport } from './model.js';
import type { RelyingParty } from './relying-party.js';
import type { PasskeyStore } from './stores.js';

/** How long a registration challenge stays usable by default, in seconds (also the browser's `timeout`). */
export const DEFAULT_PASSKEY_CHALLENGE_TTL_SECONDS = 300;

const NO_AAGUID = '00000000-0000-0000-0000-000000000000';

/** What {@link createPasskeyService} needs. */
export interface PasskeyServiceDeps {
  passkeys: PasskeyStore;
  events: EventBus;
  /** The outbox mailer (notices to the account holder). */
  mailer: Mailer;
  clock: Clock;
  relyingParty: RelyingParty;
  displayName: string;
  /** For sign-in (authentication.ts): the account behind a passwordless sign-in, and the lockout. */
  accounts: AccountStore;
  lockouts: LockoutStore;
  lockout: LockoutPolicy;
  /** Lifetime of a registration or sign-in challenge, in seconds (default {@link DEFAULT_PASSKEY_CHALLENGE_TTL_SECONDS}). */
  challengeTtlSeconds?: number;
}

/** Who asked, for the audit log. */
export interface PasskeyContext {
  ip?: string;
}

/**
 * The end of a registration. `expired`: no usable challenge for this session (none issued, already used, or
 * older than its TTL). `refused`: the answer failed verification (`reason` is for logs, never shown).
 * `already_registered`: the authenticator's credential is registered already.
 */
export type PasskeyRegistrationOutcome =
  | { outcome: 'ok'; passkey: Passkey }
  | { outcome: 'expired' }
  | { outcome: 'refused'; reason: string }
  | { outcome: 'already_registered' };

/** The passkey factor: enrollment (here) and sign-in ({@link PasskeyAuthentication}, authentication.ts). */
export interface PasskeyService extends PasskeyAuthentication {
  /** The account's passkeys (not removed), oldest first. */
  list(accountId: string): Promise<Passkey[]>;
  /**
   * Creation options (`PublicKeyCredentialCreationOptionsJSON`, WebAuthn §5.4) for `account`, signed in on IdP
   * session `sessionUid`; stores their challenge, replacing the session's earlier one.
   */
  beginRegistration(account: Account, sessionUid: string): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** The creation options of the session's registration still under way (same challenge), or null when none is. */
  findPendingRegistration(account: Account, sessionUid: string): Promise<PublicKeyCredentialCreationOptionsJSON | null>;
  /**
   * Verifies `response` (the `RegistrationResponseJSON` of @simplewebauthn/browser's `startRegistration`, as
   * parsed JSON; anything else is refused) against the session's challenge and stores the passkey as `name`.
   * @throws DomainError `validation_failed` (field `name`) when the name is empty or longer than {@link PASSKEY_NAME_MAX_LENGTH}.
   */
  completeRegistration(account: Account, sessionUid: string, input: { name: string; response: unknown }, context?: PasskeyContext): Promise<PasskeyRegistrationOutcome>;
  /** Removes passkey `passkeyId` of `account`. @returns false when it is unknown, another account's, or already removed. */
  remove(account: Account, passkeyId: string, context?: PasskeyContext): Promise<boolean>;
}

/** The trimmed name, or a field error (`name`). */
export function checkPasskeyName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw validationError({ name: ['Give the passkey a name, such as the device it is on.'] });
  if (trimmed.length > PASSKEY_NAME_MAX_LENGTH) throw validationError({ name: [`A passkey name has at most ${PASSKEY_NAME_MAX_LENGTH} characters.`] });
  return trimmed;
}

const isResponse = (value: unknown): value is RegistrationResponseJSON =>
  typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string' && typeof (value as { response?: unknown }).response === 'object';

/** Creates the service. */
export function createPasskeyService(deps: PasskeyServiceDeps): PasskeyService {
  const { passkeys, events, clock, relyingParty } = deps;
  const ttlSeconds = deps.challengeTtlSeconds ?? DEFAULT_PASSKEY_CHALLENGE_TTL_SECONDS;
  const notify = (account: Account, subject: string, body: string) => notifyAccountHolder(deps.mailer, deps.displayName, account, subject, body);

  /** Creation options for `account` (its passkeys excluded), with a new challenge or the given one (base64url). */
  async function creationOptions(account: Account, challenge?: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await passkeys.listActive(account.id);
    const { generateRegistrationOptions } = await import('@simplewebauthn/server');
    return generateRegistrationOptions({
      rpName: relyingParty.name, rpID: relyingParty.rpId,
      userID: new TextEncoder().encode(account.id), userName: account.userId, userDisplayName: account.name,
      timeout: ttlSeconds * 1000, attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      ...(challenge ? { challenge: new Uint8Array(Buffer.from(challenge, 'base64url')) } : {}),
    });
  }

  return {
    ...createPasskeyAuthentication({ ...deps, challengeTtlSeconds: ttlSeconds }),
    list: (accountId) => passkeys.listActive(accountId),

    async beginRegistration(account, sessionUid) {
      const options = await creationOptions(account);
      const now = clock.now();
      await passkeys.saveChallenge({ sessionUid, purpose: 'registration', accountId: account.id, challenge: options.challenge, expiresAt: new Date(now.getTime() + ttlSeconds * 1000) });
      return options;
    },

    async findPendingRegistration(account, sessionUid) {
      const challenge = await passkeys.findChallenge(sessionUid, account.id, 'registration', clock.now());
      return challenge ? creationOptions(account, challenge) : null;
    },

    async completeRegistration(account, sessionUid, input, context = {}) {
      const name = checkPasskeyName(input.name);
      const challenge = await passkeys.consumeChallenge(sessionUid, account.id, 'registration', clock.now());
      if (!challenge) return { outcome: 'expired' };
      if (!isResponse(input.response)) return { outcome: 'refused', reason: 'not a RegistrationResponseJSON' };
      const { verifyRegistrationResponse } = await import('@simplewebauthn/server');
      let verified;
      try {
        verified = await verifyRegistrationResponse({
          response: input.response, expectedChallenge: challenge, expectedOrigin: relyingParty.origin, expectedRPID: relyingParty.rpId,
          expectedType: 'webauthn.create', requireUserPresence: true, requireUserVerification: true,
        });
      } catch (error) {
        return { outcome: 'refused', reason: error instanceof Error ? error.message : String(error) };
      }
      if (!verified.verified) return { outcome: 'refused', reason: 'not verified' };
      const info = verified.registrationInfo;
      const now = clock.now();
      const passkey: Passkey = {
        id: newId(), accountId: account.id, credentialId: info.credential.id, publicKey: info.credential.publicKey, counter: info.credential.counter,
        transports: (info.credential.transports ?? []) as PasskeyTransport[], aaguid: info.aaguid && info.aaguid !== NO_AAGUID ? info.aaguid : null,
        deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp, name, createdAt: now, lastUsedAt: null, removedAt: null,
      };
      try {
        await passkeys.add(passkey);
      } catch (error) {
        if (error instanceof DomainError && error.code === 'conflict') return { outcome: 'already_registered' };
        throw error;
      }
      const notified = await notify(account, 'a passkey was registered', `A passkey named "${name}" was registered for your account.`);
      await events.publish({
        type: 'passkey.registered', accountId: account.id, ip: context.ip,
        data: { passkeyId: passkey.id, name, aaguid: passkey.aaguid, deviceType: passkey.deviceType, backedUp: passkey.backedUp, userVerified: info.userVerified, notified },
      }, now);
      return { outcome: 'ok', passkey };
    },

    async remove(account, passkeyId, context = {}) {
      const now = clock.now();
      const removed = await passkeys.remove(account.id, passkeyId, now);
      if (!removed) return false;
      const notified = await notify(account, 'a passkey was removed', `The passkey named "${removed.name}" was removed from your account. It can no longer be used to sign in.`);
      await events.publish({ type: 'passkey.removed', accountId: account.id, ip: context.ip, data: { passkeyId, name: removed.name, notified } }, now);
      return true;
    },
  };
}
