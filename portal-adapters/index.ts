/**
 * portal-adapters: Express middleware that lets any downstream application sign people in through
 * connect-iam (or any OpenID Provider) and enforce the function catalogue of `policies/`.
 * Depends only on policies/, openid-client, jose and express. Published as `@connect-iam/portal-adapters`, whose
 * build compiles policies/ into the package (portal-adapters/tsconfig.build.json).
 *
 * @module @connect-iam/portal-adapters
 */
export { createPortalAuth, type PortalAuth } from './create-portal-auth.js';
export type { PortalAuthOptions, PortalLogger, OnDenied } from './options.js';
export type { VerifyBearerOptions } from './verify-bearer.js';
export {
  verifyDPoPProof, InvalidDPoPProof, DPOP_ALGORITHMS,
  type DPoPProofExpectations, type VerifiedDPoPProof,
} from './dpop.js';
export { createSessionCodec, type PortalSession, type PortalOrganization } from './session.js';
export type { Sealer } from './sealed-cookie.js';
export { createMemoryLogoutStore, type LogoutStore } from './logout-store.js';
export { createMemoryReplayStore, type ReplayStore } from './replay-store.js';
export {
  verifyLogoutToken, InvalidLogoutToken, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYPE,
  type LogoutTarget, type LogoutTokenExpectations, type VerifiedLogoutToken,
} from './backchannel-logout.js';
export { safeReturnTo } from './return-to.js';
export { PHISHING_RESISTANT_ACR, sessionMeetsAcr } from './require-acr.js';
export type { Decision } from '../policies/index.js';
