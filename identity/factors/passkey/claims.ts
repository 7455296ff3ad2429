/**
 * What a sign-in with a passkey says in the ID token: its RFC 8176 `amr` values and the `acr` `phr`.
 *
 * **`hwk` or `swk`** (RFC 8176 §2: proof of possession of a hardware- or software-secured key). We require no
 * attestation, so no statement from the manufacturer tells us where the key lives; what we do know is signed by
 * the authenticator itself in every assertion: the backup eligibility flag (BE, WebAuthn Level 3 §6.1, "credential
 * backup state"). A backup-eligible credential (a synced passkey: iCloud Keychain, Google Password Manager, a
 * password manager) has a private key that is copied off the device through the provider's cloud, so it is only
 * as safe as software on those devices and that account: `swk`. A credential that is not backup eligible is
 * device-bound: its key never leaves the authenticator, which for the authenticators that make such credentials
 * (security keys over USB, NFC or BLE; platform authenticators behind a TPM or secure enclave) is a hardware
 * element: `hwk`. The authenticator attachment and the transports are taken as well but do not change the
 * answer: they are reported by the browser, unsigned, and both attachments (platform and cross-platform) and every
 * transport (including `hybrid`, a phone) exist with synced and with device-bound credentials alike.
 *
 * **`user`** when the authenticator performed user verification (flag UV, §6.1: a PIN, fingerprint or face on
 * the device; RFC 8176 `user` is the test that the person is present and interacting, which verification
 * includes). Not given when the assertion only proved presence (a touch), which is possible for the second-factor
 * passkey; a passwordless sign-in always requires verification.
 *
 * **`mfa`**: after the password, the passkey is the second factor. Without a password, the passkey with user
 * verification is two factors in one ceremony (something you have: the key; something you know or are: the PIN
 * or biometric that unlocks it, NIST SP 800-63B §5.1.9 "multi-factor cryptographic authenticator"), so a
 * passwordless sign-in counts as both factors.
 *
 * **`acr` `phr`** ("phishing-resistant", OpenID Enhanced Authentication Profile (EAP) ACR Values 1.0 §2): a WebAuthn
 * assertion is bound to the origin by the browser and to the RP ID by the authenticator (verified against ISSUER),
 * so a fake sign-in page cannot relay it. Every sign-in with a passkey gets it; no other sign-in does.
 */
import type { PasskeyTransport } from './model.js';

/** The `acr` of a sign-in with a passkey (OpenID EAP ACR Values 1.0 §2). */
export const PHISHING_RESISTANT_ACR = 'phr';

/** What the verified assertion tells about the authenticator. */
export interface PasskeyAssertionTraits {
  /** BE flag of this assertion's authenticator data: `multiDevice` when backup eligible (signed). */
  deviceType: 'singleDevice' | 'multiDevice';
  /** UV flag of this assertion (signed). */
  userVerified: boolean;
  /** `authenticatorAttachment` the browser reported (unsigned; informative only). */
  attachment?: 'platform' | 'cross-platform' | null;
  /** Transports recorded at registration (unsigned; informative only). */
  transports?: readonly PasskeyTransport[];
}

/** RFC 8176 `hwk` or `swk` for the key behind an assertion (see the module comment for why). */
export function passkeyKeyAmr(traits: PasskeyAssertionTraits): 'hwk' | 'swk' {
  return traits.deviceType === 'multiDevice' ? 'swk' : 'hwk';
}

/**
 * The `amr` of a completed sign-in with a passkey: `via: 'password'` for the passkey after the password
 * (`pwd`, `hwk`|`swk`, `user` when verified, `mfa`), `via: 'passwordless'` for the passkey alone
 * (`hwk`|`swk`, `user`, `mfa`; user verification is required there, so `user` is always present).
 */
export function passkeySignInAmr(via: 'password' | 'passwordless', traits: PasskeyAssertionTraits): string[] {
  return [...(via === 'password' ? ['pwd'] : []), passkeyKeyAmr(traits), ...(traits.userVerified ? ['user'] : []), 'mfa'];
}

