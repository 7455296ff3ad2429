/**
 * The WebAuthn Relying Party of this IdP, derived from `ISSUER` (never from the request's Host header).
 */

/** The RP ID and origin that every ceremony is bound to. */
export interface RelyingParty {
  /** The RP ID (WebAuthn Level 3 §5.1.2 `rp.id`): the issuer's host name, without port. */
  rpId: string;
  /** The only origin (§13.4.9) a ceremony may come from: the issuer's scheme, host and port. */
  origin: string;
  /** Shown by the authenticator (`rp.name`). */
  name: string;
}

/**
 * The relying party of `issuer` (e.g. `https://id.example.com/idp` gives RP ID `id.example.com` and origin
 * `https://id.example.com`).
 * @throws TypeError when `issuer` is not a URL.
 */
export function relyingPartyOf(issuer: string, name: string): RelyingParty {
  const url = new URL(issuer);
  return { rpId: url.hostname, origin: url.origin, name };
}
