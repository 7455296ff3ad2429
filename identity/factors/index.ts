/**
 * Sign-in factors as strategies (./strategy.ts): the registration list and the public surface of each factor.
 * Adding a factor: its folder here (strategy, store interface, events), its pages in idp/interactions (listed in
 * idp/interactions/factor-pages.ts), and one line in {@link FACTORS}. docs/architecture.md, "Sign-in factors".
 */
import { authenticatorAppFactor } from './authenticator-app/strategy.js';
import { emailOtpFactor } from './email-otp/strategy.js';
import { passwordFactor } from './password/strategy.js';
import { passkeyFactor } from './passkey/strategy.js';

/**
 * Every factor, one line each. The order is the sign-in flow's preference among second factors when the account
 * chose none (the emailed code, the fallback, comes last whatever its place).
 */
export const FACTORS = [
  passwordFactor,
  passkeyFactor,
  emailOtpFactor,
  authenticatorAppFactor,
] as const;

export * from './strategy.js';
export * from './registry.js';
export * from './password/index.js';
export * from './email-otp/index.js';
export * from './authenticator-app/index.js';
