/**
 * Every factor's pages (./factor-step.ts `FactorPages`), one line each: router.ts mounts their routes and the
 * step pages render through them. Adding a factor: its pages module, and one line here.
 */
import { appPages } from './app-code.js';
import { emailOtpPages } from './email-otp.js';
import type { FactorPages } from './factor-step.js';
import { passwordPages } from './password.js';
import { passkeyPages } from './passkey-pages.js';

export const FACTOR_PAGES: readonly FactorPages[] = [
  passwordPages,
  passkeyPages,
  emailOtpPages,
  appPages,
];

/** The app registration form's view model, shared with the account page (idp/account). */
export { setupModel } from './app-pages.js';
