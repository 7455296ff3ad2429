/**
 * Signing in with a passkey (W3C WebAuthn Level 3 §7.2, "Verifying an authentication assertion"), with
 * @simplewebauthn/server, in two modes:
 *
 * - `password`: the passkey as second factor after the password. The options list the account's passkeys
 *   (`allowCredentials`), user verification is preferred (the password already was one factor).
 * - `passwordless`: the passkey alone, from the "Sign in with a passkey" button or browser autofill (conditional
 *   mediation). No account is known yet: the options list no credential (a discoverable credential answers,
 *   §6.2.2) and user verification is required, so the one ceremony gives both factors (claims.ts).
 *
 * {@link PasskeyAuthentication.beginAuthentication} stores the challenge server-side for the interaction (and
 * the account, in `password` mode) for `challengeTtlSeconds`; {@link PasskeyAuthentication.completeAuthentication}
 * consumes it (one use, by `DELETE … RETURNING`: a failed answer spends it too) and verifies the assertion:
 * type `webauthn.get`, challenge, origin and RP ID hash against ISSUER (relying-party.ts), user presence (and
 * verification when required), the signature with the stored public key, the user handle when one is given.
 *
 * **Signature counter** (§6.1.1, §13.4.6 "cloned authenticator"): after the signature is verified, a counter that
 * did not increase while either the stored or the presented one is non-zero means two authenticators hold the
 * same private key. The assertion is refused and the passkey is removed (WebAuthn §13.4.6 leaves the RP to
 * decide; a refusal alone would let the clone in on its next try, one counter higher), `passkey.clone_refused`
 * names the passkey and its credential ID (data.removed), and the failure counts toward the lockout. The holder
 * signs in with the password and another factor and registers a passkey again. The new counter is recorded by one conditional UPDATE that holds
 * only while the counter grows, so two concurrent assertions with the same counter cannot both pass.
 * (@simplewebauthn/server checks the counter too, but before the signature and with a message only: it is given
 * counter 0 so that this service makes the check, after the signature, with a structured outcome.)
 *
 * **Lockout**: like the codes (identity/authentication/factor-attempts.ts), each attempt on a known account is
 * reserved before it is checked and each failure counts (design/security.md §2). A passwordless sign-in learns
 * the account from the credential; a suspended or closed account is refused, a locked one is told so only when
 * its assertion was valid. Success resets the counts and records `account.signed_in` (data.amr, data.factor
 * `passkey`, data.passkeyId, data.userVerified) in the statement that resets them.
 */
// @simplewebauthn/server is loaded at the first ceremony (`await import`): an idle IdP never needs it (registration.ts).
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Clock } from '../../../lib/index.js';
import { createFactorAttempts } from '../../authentication/factor-attempts.js';
import type { AttemptContext } from '../../authentication/sign-in.js';
import { stampEvent, type EventBus } from '../../events.js';
import type { AccountStore, LockoutPolicy, LockoutStore } from '../../stores.js';
import { PHISHING_RESISTANT_ACR, passkeySignInAmr } from './claims.js';
import type { Passkey } from './model.js';
import type { RelyingParty } from './relying-party.js';
import type { PasskeyStore } from './stores.js';

/** The audit log's name of this factor (`account.sign_in_failed` data.factor). */
export const PASSKEY_FACTOR = 'passkey';

/** A sign-in ceremony: the interaction it belongs to and, after the password, the account. */
export type PasskeyCeremony =
  | { mode: 'password'; interactionUid: string; accountId: string }
  | { mode: 'passwordless'; interactionUid: string };

/**
 * The end of a sign-in ceremony. `ok`: the account, the passkey used, whether the person was verified, the
 * sign-in's RFC 8176 `amr` and `acr` `phr`. `expired`: no usable challenge (none issued, already used, or past
 * its TTL). `refused`: not a valid assertion for this site and ceremony (`reason` for logs only). `cloned`: the
 * signature counter did not increase. `locked`: the account is locked (a valid assertion on a locked account).
 */
export type PasskeySignInOutcome =
  | { outcome: 'ok'; accountId: string; passkey: Passkey; userVerified: boolean; amr: string[]; acr: typeof PHISHING_RESISTANT_ACR }
  | { outcome: 'expired' }
  | { outcome: 'refused'; reason: string }
  | { outcome: 'cloned' }
  | { outcome: 'locked' };

/** What {@link createPasskeyAuthentication} needs. */
export interface PasskeyAuthenticationDeps {
  passkeys: PasskeyStore;
  accounts: AccountStore;
  lockouts: LockoutStore;
  lockout: LockoutPolicy;
  events: EventBus;
  clock: Clock;
  relyingParty: RelyingParty;
  /** Lifetime of a sign-in challenge, in seconds (also the browser's `timeout`). */
  challengeTtlSeconds: number;
}

/** The passkey factor's sign-in part. */
export interface PasskeyAuthentication {
  /** True when the account has a passkey (not removed). */
  hasPasskey(accountId: string): Promise<boolean>;
  /**
   * Request options (`PublicKeyCredentialRequestOptionsJSON`, WebAuthn §5.5) for `ceremony`; stores their
   * challenge, replacing the interaction's earlier one of the same mode.
   */
  beginAuthentication(ceremony: PasskeyCeremony): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * Verifies `response` (the `AuthenticationResponseJSON` of @simplewebauthn/browser's `startAuthentication`, as
   * parsed JSON; anything else is refused) against the ceremony's challenge, records the use and returns the
   * outcome. Never throws for a bad answer.
   */
  completeAuthentication(ceremony: PasskeyCeremony, response: unknown, context?: AttemptContext): Promise<PasskeySignInOutcome>;
}

const isResponse = (value: unknown): value is AuthenticationResponseJSON =>
  typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string' && (value as { id: string }).id.length <= 1400
  && typeof (value as { response?: unknown }).response === 'object' && (value as { response?: unknown }).response !== null;

const accountOf = (ceremony: PasskeyCeremony) => (ceremony.mode === 'password' ? ceremony.accountId : null);

/** Creates the sign-in part of the passkey factor. */
export function createPasskeyAuthentication(deps: PasskeyAuthenticationDeps): PasskeyAuthentication {
  const { passkeys, accounts, lockouts, events, clock, relyingParty, challengeTtlSeconds } = deps;
  const attempts = createFactorAttempts(deps, PASSKEY_FACTOR);
  /** Records a refusal that counts toward no lockout (no account, or one that cannot sign in anyway). */
  async function failed(accountId: string | null, reason: string, context: AttemptContext): Promise<PasskeySignInOutcome> {
    await events.publish({ type: 'account.sign_in_failed', accountId, ip: context.ip, data: { reason, factor: PASSKEY_FACTOR, clientId: context.clientId ?? null } }, clock.now());
    return { outcome: 'refused', reason };
  }
  const failedWithoutAccount = (reason: string, context: AttemptContext) => failed(null, reason, context);

  /** The signature and the rest of §7.2, the counter excepted (checked after, below). */
  async function verify(response: AuthenticationResponseJSON, passkey: Passkey, challenge: string, requireUserVerification: boolean) {
    const { verifyAuthenticationResponse } = await import('@simplewebauthn/server');
    try {
      const result = await verifyAuthenticationResponse({
        response, expectedChallenge: challenge, expectedOrigin: relyingParty.origin, expectedRPID: relyingParty.rpId, expectedType: 'webauthn.get',
        credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: 0, transports: passkey.transports },
        requireUserVerification,
      });
      return result.verified ? result.authenticationInfo : null;
    } catch {
      return null;
    }
  }

  /** The user handle, when the authenticator gave one, must be the account's (the userID of registration). */
  const userHandleMatches = (response: AuthenticationResponseJSON, passkey: Passkey) =>
    !response.response.userHandle || Buffer.from(response.response.userHandle, 'base64url').toString('utf8') === passkey.accountId;

  return {
    async hasPasskey(accountId) {
      return (await passkeys.listActive(accountId)).length > 0;
    },

    async beginAuthentication(ceremony) {
      const allow = ceremony.mode === 'password' ? await passkeys.listActive(ceremony.accountId) : [];
      const { generateAuthenticationOptions } = await import('@simplewebauthn/server');
      const options = await generateAuthenticationOptions({
        rpID: relyingParty.rpId, timeout: challengeTtlSeconds * 1000,
        userVerification: ceremony.mode === 'passwordless' ? 'required' : 'preferred',
        ...(ceremony.mode === 'password' ? { allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: p.transports })) } : {}),
      });
      await passkeys.saveChallenge({
        sessionUid: ceremony.interactionUid, purpose: ceremony.mode === 'password' ? 'authentication' : 'passwordless', accountId: accountOf(ceremony),
        challenge: options.challenge, expiresAt: new Date(clock.now().getTime() + challengeTtlSeconds * 1000),
      });
      return options;
    },

    async completeAuthentication(ceremony, response, context = {}) {
      const purpose = ceremony.mode === 'password' ? 'authentication' : 'passwordless';
      const challenge = await passkeys.consumeChallenge(ceremony.interactionUid, accountOf(ceremony), purpose, clock.now());
      if (!challenge) return { outcome: 'expired' };
      const wellFormed = isResponse(response);
      const passkey = wellFormed ? await passkeys.findByCredentialId(response.id) : null;
      if (ceremony.mode === 'passwordless') {
        // Nobody is known until a registered credential answers; a closed or suspended account is refused here.
        if (!passkey) return failedWithoutAccount(wellFormed ? 'unknown_credential' : 'malformed_assertion', context);
        const account = await accounts.findById(passkey.accountId);
        if (!account || account.status !== 'active') return failed(passkey.accountId, `account_${account?.status ?? 'unknown'}`, context);
      }
      const accountId = ceremony.mode === 'password' ? ceremony.accountId : passkey!.accountId;
      const requireUserVerification = ceremony.mode === 'passwordless';
      const reservation = await attempts.reserve(accountId, context);
      if (reservation) {
        // Only a valid assertion learns that the account is locked.
        const valid = reservation.outcome === 'locked' && wellFormed && passkey?.accountId === accountId && (await verify(response, passkey, challenge, requireUserVerification)) !== null;
        return valid ? { outcome: 'locked' } : { outcome: 'refused', reason: 'attempt_refused' };
      }
      const refuse = async (reason: string): Promise<PasskeySignInOutcome> => ((await attempts.fail(accountId, reason, context)) ? { outcome: 'locked' } : { outcome: 'refused', reason });
      if (!wellFormed) return refuse('malformed_assertion');
      if (!passkey || passkey.accountId !== accountId) return refuse('unknown_credential');
      const info = await verify(response, passkey, challenge, requireUserVerification);
      if (!info || !userHandleMatches(response, passkey)) return refuse('assertion_refused');
      const now = clock.now();
      const counterIncreased = !(info.newCounter > 0 || passkey.counter > 0) || info.newCounter > passkey.counter;
      if (!counterIncreased || !(await passkeys.recordUse(passkey.id, { counter: info.newCounter, backedUp: info.credentialBackedUp, now }))) {
        // Two authenticators hold this private key: neither is trusted any more.
        const removed = (await passkeys.remove(passkey.accountId, passkey.id, now)) !== null;
        await events.publish({
          type: 'passkey.clone_refused', accountId: passkey.accountId, ip: context.ip,
          data: { factor: PASSKEY_FACTOR, passkeyId: passkey.id, credentialId: passkey.credentialId, name: passkey.name, storedCounter: passkey.counter, presentedCounter: info.newCounter, removed, clientId: context.clientId ?? null },
        }, now);
        await attempts.fail(passkey.accountId, 'counter_not_increased', context);
        return { outcome: 'cloned' };
      }
      const amr = passkeySignInAmr(ceremony.mode, {
        deviceType: info.credentialDeviceType, userVerified: info.userVerified, attachment: response.authenticatorAttachment ?? null, transports: passkey.transports,
      });
      const signedIn = stampEvent({
        type: 'account.signed_in', accountId: passkey.accountId, ip: context.ip,
        data: { amr, clientId: context.clientId ?? null, factor: PASSKEY_FACTOR, passkeyId: passkey.id, userVerified: info.userVerified, passwordless: ceremony.mode === 'passwordless' },
      }, now);
      await lockouts.reset(passkey.accountId, now, signedIn);
      await events.publishRecorded(signedIn);
      return { outcome: 'ok', accountId: passkey.accountId, passkey: { ...passkey, counter: info.newCounter, lastUsedAt: now }, userVerified: info.userVerified, amr, acr: PHISHING_RESISTANT_ACR };
    },
  };
}
