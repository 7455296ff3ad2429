/**
 * The passkey factor's model: WebAuthn credentials (W3C WebAuthn Level 3 §6.1, "public key credential source")
 * registered to an account, and the challenges of ceremonies under way.
 */

/** How an authenticator can be reached (WebAuthn Level 3 §5.8.4, `AuthenticatorTransport`). */
export type PasskeyTransport = 'ble' | 'cable' | 'hybrid' | 'internal' | 'nfc' | 'smart-card' | 'usb';

/** A passkey of an account. */
export interface Passkey {
  /** Our id (uuid), used in forms; never the credential ID. */
  id: string;
  accountId: string;
  /** The credential ID (§4 "Credential ID") in base64url, unique across accounts. */
  credentialId: string;
  /** The credential public key, COSE_Key encoded (RFC 9052 §7, WebAuthn §6.5.1.1). */
  publicKey: Uint8Array;
  /** The last signature counter seen (§6.1.1); 0 for authenticators that keep none. */
  counter: number;
  transports: PasskeyTransport[];
  /** The authenticator model's AAGUID (§6.5.1) when attestation named one; null when none or all zeroes. */
  aaguid: string | null;
  /** `multiDevice` when the credential may be synced (backup eligible, §6.1.3). */
  deviceType: 'singleDevice' | 'multiDevice';
  /** The backup state flag (BS) at registration. */
  backedUp: boolean;
  /** What the account holder called it (1 to {@link PASSKEY_NAME_MAX_LENGTH} characters). */
  name: string;
  createdAt: Date;
  /** The last sign-in with it; null until it is first used. */
  lastUsedAt: Date | null;
  /** Set when it was removed; a removed passkey never signs in again. */
  removedAt: Date | null;
}

/** The longest passkey name, in characters. */
export const PASSKEY_NAME_MAX_LENGTH = 64;

/**
 * What a challenge is for: `registration` (account page, or the sign-in's registration prompt), `authentication`
 * (the passkey as second factor, after the password) or `passwordless` (sign-in with a passkey alone).
 */
export type PasskeyChallengePurpose = 'registration' | 'authentication' | 'passwordless';

/** A challenge (§13.4.3) issued to one IdP session or sign-in interaction, waiting for the ceremony's answer. */
export interface PasskeyChallenge {
  /** The IdP session's uid (the account page's session), or the interaction's uid for a sign-in ceremony. */
  sessionUid: string;
  purpose: PasskeyChallengePurpose;
  /** The account signed in (or past the password) when it was issued; null for `passwordless`. */
  accountId: string | null;
  /** The challenge in base64url, as sent in the options. */
  challenge: string;
  expiresAt: Date;
}
