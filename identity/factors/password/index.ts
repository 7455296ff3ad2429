/** The password factor: the sign-in's first step (argon2id, lockout). */
export { createPasswordSignIn, type PasswordOutcome, type PasswordSignIn, type PasswordSignInDeps } from './password-sign-in.js';
export type { PasswordStores } from './stores.js';
export { createPasswordStrategy, passwordFactor, PASSWORD_AMR, type PasswordStrategy, type PasswordSubmission } from './strategy.js';
