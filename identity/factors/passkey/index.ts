/**
 * The passkey factor (WebAuthn, issue 13): its model, store interface, enrollment on the account page, sign-in
 * (second factor or passwordless) and what a sign-in with it puts in `amr` and `acr`.
 */
export * from './model.js';
export type { PasskeyStore } from './stores.js';
export { relyingPartyOf, type RelyingParty } from './relying-party.js';
export { checkPasskeyName, createPasskeyService, DEFAULT_PASSKEY_CHALLENGE_TTL_SECONDS, type PasskeyContext, type PasskeyRegistrationOutcome, type PasskeyService, type PasskeyServiceDeps } from './registration.js';
export { createPasskeyAuthentication, PASSKEY_FACTOR, type PasskeyAuthentication, type PasskeyAuthenticationDeps, type PasskeyCeremony, type PasskeySignInOutcome } from './authentication.js';
export { passkeyKeyAmr, passkeySignInAmr, PHISHING_RESISTANT_ACR, type PasskeyAssertionTraits } from './claims.js';
