/**
 * Every store identity/ needs, on one database.
 */
import type { IdentityStores } from '../identity/index.js';
import { createAccountStore } from './account-store.js';
import { createAuditStore } from './audit-store.js';
import { createAuthenticatorStore, type SealingKeys } from './authenticator-store.js';
import { createCampaignStore } from './campaign-store.js';
import { createChangeRequestStore } from './change-request-store.js';
import type { Database } from './database.js';
import { createEmailOtpStore, otpDeliveredStep } from './email-otp-store.js';
import { createMailOutboxStore, createOutboxWriter } from './mail-outbox-store.js';
import { createLockoutStore } from './lockout-store.js';
import { createOrganizationStore } from './organization-store.js';
import { DEVELOPMENT_ENCRYPTION_KEY } from '../lib/index.js';
import { createAccountSessionRevoker } from './account-session-revoker.js';
import { createPasswordResetStore, supersedeOlderOn } from './password-reset-store.js';
import { createRateLimitStore } from './rate-limit-store.js';
import { translateInvalidText } from './postgres-errors.js';
import { createSftpStore } from './sftp-store.js';
import { createPasskeyStore } from './passkey-store.js';
import { createPhishingResistantRuleStore } from './phishing-resistant-rule-store.js';

/**
 * Implements identity/'s {@link IdentityStores} on `database` (PostgreSQL or PGlite alike).
 * Errors: see each interface in identity/stores.ts; database failures surface as the driver's errors, except
 * PostgreSQL refusing text that holds NUL, which every store throws as a DomainError `validation_failed` (400).
 * @param keys - the keys that seal authenticator secrets and outbox messages (config `ENCRYPTION_KEY`, `PREVIOUS_ENCRYPTION_KEYS`);
 *   server/ always passes them. Omitted only by storage tests: the development key.
 */
export function createIdentityStores(database: Database, keys: SealingKeys = { current: Buffer.from(DEVELOPMENT_ENCRYPTION_KEY, 'base64') }): IdentityStores {
  const { db } = database;
  const outbox = createOutboxWriter(keys);
  const stores: IdentityStores = {
    organizations: createOrganizationStore(db),
    accounts: createAccountStore(db),
    lockouts: createLockoutStore(db),
    emailOtps: createEmailOtpStore(db, outbox),
    audit: createAuditStore(db),
    passwordResets: createPasswordResetStore(db, outbox),
    rateLimits: createRateLimitStore(db),
    accountSessions: createAccountSessionRevoker(database),
    authenticators: createAuthenticatorStore(db, keys),
    campaigns: createCampaignStore(db),
    changeRequests: createChangeRequestStore(db),
    sftp: createSftpStore(db),
    passkeys: createPasskeyStore(db),
    phishingResistantRules: createPhishingResistantRuleStore(db),
    // What a delivered message makes usable is recorded in the transaction that marks it sent.
    mailOutbox: createMailOutboxStore(db, keys, outbox, {
      email_otp: otpDeliveredStep,
      reset_link: async (tx, id, now) => void (await supersedeOlderOn(tx, id, now)),
      set_password_link: async (tx, id, now) => void (await supersedeOlderOn(tx, id, now)),
    }),
  };
  // PostgreSQL refusing NUL in text is bad input: a 400 from every store, never a 500.
  return Object.fromEntries(Object.entries(stores).map(([name, store]) => [name, translateInvalidText(store as object)])) as unknown as IdentityStores;
}
