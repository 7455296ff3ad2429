/**
 * The OpenID Provider: oidc-provider 9 configured for production, our interaction pages (sign-in, emailed
 * one-time code, acting organization, consent), account claims and provider events.
 */
export { createIdp, type Idp, type IdpDeps } from './create-idp.js';
export type { ProtocolHandler } from './protocol-routes.js';
export { PORTAL_API, PORTAL_API_SCOPES } from './configuration.js';
export { ACTING_ORGANIZATION_RESULT } from './acting-organization.js';
export type { Application } from './restart.js';
export type { OidcAdapter, OidcAdapterFactory, Provider } from './oidc.js';
export { notifyClientsOnSessionsEnded, sendBackChannelLogouts, SESSIONS_ENDED_EVENTS } from './back-channel-logout.js';
export { contentSecurityPolicy, securityHeaders } from './security-headers.js';
