/** The authenticator app factor (TOTP, RFC 6238): sign-in codes, registration, re-registration campaigns. */
export { APP_AMR, APP_SIGN_IN_AMR, createAuthenticatorAppFactor, type AuthenticatorAppDeps, type AuthenticatorAppFactor } from './authenticator-app.js';
export { createAuthenticatorService, type AuthenticatorService, type AuthenticatorServiceDeps, type AuthenticatorSetup, type FreshCodeOutcome, type RegistrationOutcome, type RegistrationVia } from './authenticator-service.js';
export { createCampaignInput, createCampaignService, type CampaignService, type CampaignView, type RegistrationPrompt } from './campaign-service.js';
export { newTotpSecret, normalizeTotpCode, totpUri, verifyTotp } from './totp.js';
export { authenticatorAppFactor, createAuthenticatorAppStrategy, type AppCodeSubmission, type AuthenticatorAppStrategy } from './strategy.js';
export type { AuthenticatorStore, CampaignStore } from './stores.js';
