/**
 * Authenticator apps (TOTP, RFC 6238): the parameters every app must use and the product rules around the
 * app as a second factor. Deployment switches (whether to offer registration at sign-in, whether the email
 * fallback is allowed) take their defaults from {@link DEFAULT_AUTHENTICATOR_POLICY}; `lib/config.ts`
 * exposes them as settings.
 */

/**
 * RFC 6238 parameters, the defaults every authenticator app supports (Google, Microsoft, FreeOTP,
 * ForgeRock): HMAC-SHA-1 (RFC 4226 §5), 6 digits, 30-second time step (RFC 6238 §4, X = 30, T0 = 0).
 */
export const TOTP_PARAMETERS = { algorithm: 'sha1', digits: 6, periodSeconds: 30 } as const;

/**
 * Accepted clock drift in time steps on either side of the current one (RFC 6238 §5.2 recommends at most one
 * step of network delay); never wider than one step (design/security.md §4).
 */
export const TOTP_WINDOW_STEPS = 1;

/** Bytes of randomness in a new TOTP secret (RFC 4226 §4 R6 recommends 160 bits). */
export const TOTP_SECRET_BYTES = 20;

/** The rules of the app factor a deployment may choose. */
export interface AuthenticatorPolicy {
  /**
   * After the second factor of a sign-in, offer accounts without an app "Register device" / "Skip this step".
   * Off by default: as in the seed circular, email-OTP users are left alone unless the operator asks.
   */
  offerRegistrationAtSignIn: boolean;
  /** Accounts with an app may choose "Email me a code instead" at sign-in. */
  emailFallback: boolean;
}

/** The default {@link AuthenticatorPolicy}. */
export const DEFAULT_AUTHENTICATOR_POLICY: AuthenticatorPolicy = { offerRegistrationAtSignIn: false, emailFallback: true };

/** The two second factors an account may prefer: the authenticator app or the emailed code. */
export const SECOND_FACTORS = ['app', 'email'] as const;

/** One of {@link SECOND_FACTORS}. */
export type SecondFactor = (typeof SECOND_FACTORS)[number];

/** A registration not confirmed within this many seconds must be started again (a new secret). */
export const AUTHENTICATOR_PENDING_TTL_SECONDS = 1800;
