/**
 * The passkey factor (WebAuthn, issue 13): its model, store interface and enrollment on the account page.
 * Sign-in with a passkey comes with the factor strategies.
 */
export * from './model.js';
export type { PasskeyStore } from './stores.js';
export { relyingPartyOf, type RelyingParty } from './relying-party.js';
export { checkPasskeyName, createPasskeyService, DEFAULT_PASSKEY_CHALLENGE_TTL_SECONDS, type PasskeyContext, type PasskeyRegistrationOutcome, type PasskeyService, type PasskeyServiceDeps } from './registration.js';
