/**
 * The domain core shared by idp/ and admin-console/: accounts, credentials, lockout, organizations,
 * memberships, change requests (maker-checker), audit events. Declares the store interfaces storage/ implements.
 */
import type { Clock, Mailer } from '../lib/index.js';
import { DEFAULT_AUTHENTICATOR_POLICY, type AuthenticatorPolicy } from '../policies/index.js';
import { createChangePassword, type ChangePassword } from './accounts/change-password.js';
import { createAccountService, type AccountService } from './accounts/account-service.js';
import { createFactorRegistry, FACTORS, type AuthenticatorAppFactor, type AuthenticatorService, type CampaignService, type EmailOtpFactor, type FactorRegistry, type PasswordSignIn } from './factors/index.js';
import { createSignInFlow, type SignInFlow } from './authentication/sign-in-flow.js';
import { notifyHolderWhenLocked, type LockNotices } from './authentication/lock-notice.js';
import { recordEventsInAudit } from './audit.js';
import type { EventBus } from './events.js';
import { createOrganizationService, type OrganizationService } from './organizations/organization-service.js';
import type { IdentityStores, LockoutPolicy } from './stores.js';
import type { Logger } from '../lib/index.js';
import { createChangeRequestService, type ChangeRequestService } from './change-requests/index.js';
import { createMailDelivery, DEFAULT_MAIL_DELIVERY_SETTINGS, type MailDelivery, type MailDeliverySettings } from './mail/delivery.js';
import { createOutboxMailer } from './mail/outbox-mailer.js';
import { listUndeliveredMail, type UndeliveredMailView } from './mail/undelivered.js';
import { createSftpService, type SftpService } from './sftp/index.js';
import { createPasskeyService, relyingPartyOf, type PasskeyService } from './factors/passkey/index.js';
import { createPhishingResistantPolicyService, type PhishingResistantPolicyService } from './factors/phishing-resistant-policy.js';
import { createPasswordRecovery, DEFAULT_RECOVERY_SETTINGS, type PasswordRecovery, type RecoverySettings } from './recovery/password-recovery.js';

export * from './model.js';
export * from './stores.js';
export * from './events.js';
export { forwardAuditEvents, type AuditHook, type AuditForwarding } from './audit.js';
export { hashPassword, verifyPassword, admitPasswordWork, configurePasswordHashing, ARGON2_OPTIONS, DEFAULT_PASSWORD_HASHING_LIMITS, type PasswordHashingLimits } from './credentials/password.js';
export { createAccountInput, type AccountService, type AccountView } from './accounts/account-service.js';
export { createOrganizationInput, type OrganizationService } from './organizations/organization-service.js';
export * from './mail/stores.js';
export { DEFAULT_MAIL_DELIVERY_SETTINGS, retryDelaySeconds, type MailDelivery, type MailDeliverySettings } from './mail/delivery.js';
export type { UndeliveredMailView } from './mail/undelivered.js';
export type { AttemptContext } from './authentication/sign-in.js';
export * from './factors/index.js';
export { chooseSecondFactor, type SignInFlow, type SignInFlowDeps } from './authentication/sign-in-flow.js';
export * from './authentication/sign-in-state.js';
export type { ChangePassword } from './accounts/change-password.js';
export { checkNewPassword, guessabilityScore, isCommonPassword, passwordLength, type PasswordContext } from './credentials/password-policy.js';
export * from './recovery/stores.js';
export * from './change-requests/index.js';
export * from './sftp/index.js';
export * from './factors/passkey/index.js';
export * from './factors/phishing-resistant-policy.js';
export { phoneDigits, phonesMatch } from './recovery/phone.js';
export { describeDuration } from './recovery/emails.js';
export { DEFAULT_RECOVERY_SETTINGS, type PasswordRecovery, type RecoverySettings, type ResetOutcome, type RecoveryContext, type LinkPurpose } from './recovery/password-recovery.js';

/** What {@link createIdentity} needs. Durations are seconds. */
export interface IdentityDeps {
  stores: IdentityStores;
  events: EventBus;
  /**
   * The transport that really sends (lib `createMailer`: SMTP or `.eml` files). Identity never calls it in a
   * request: every email goes through the durable outbox (`stores.mailOutbox`) and {@link Identity.mailDelivery}.
   */
  mailer: Mailer;
  /** Retries and polling of the outbox worker; default {@link DEFAULT_MAIL_DELIVERY_SETTINGS}. */
  mailDelivery?: MailDeliverySettings;
  clock: Clock;
  lockout: LockoutPolicy;
  otp: { ttlSeconds: number; resendIntervalSeconds: number };
  displayName: string;
  /** Password reset settings; default {@link DEFAULT_RECOVERY_SETTINGS}. */
  recovery?: RecoverySettings;
  /** The IdP's public URL (config.issuer, no trailing slash): base of the set-password link emailed to new accounts. Default `http://localhost:3000`. */
  issuer?: string;
  /** Where failures of background work (recovery emails) are logged with their error id. */
  logger?: Logger;
  /** The authenticator app rules (default {@link DEFAULT_AUTHENTICATOR_POLICY}). */
  authenticatorPolicy?: AuthenticatorPolicy;
  /** IANA time zone for times in change-request messages and mails (default `UTC`). */
  timeZone?: string;
}

/** The identity services, wired. */
export interface Identity {
  accounts: AccountService;
  /** The sign-in factors (identity/factors), by id: `factors.byId.totp`, `factors.secondSteps()`. */
  factors: FactorRegistry<typeof FACTORS>;
  /** The sign-in flow: decides each next step of a sign-in (identity/authentication/sign-in-flow.ts). */
  signIn: SignInFlow;
  organizations: OrganizationService;
  passwordSignIn: PasswordSignIn;
  /** Emails the holder of an account when it locks (`idle()` waits for the emails under way). */
  lockNotices: LockNotices;
  emailOtp: EmailOtpFactor;
  recovery: PasswordRecovery;
  authenticatorApp: AuthenticatorAppFactor;
  authenticators: AuthenticatorService;
  campaigns: CampaignService;
  authenticatorPolicy: AuthenticatorPolicy;
  /** The account holder changes their own password (account page). */
  changePassword: ChangePassword;
  /** Maker-checker change requests of delegated administrators. */
  changeRequests: ChangeRequestService;
  /** SSH keys and source ranges of ECP SFTP accounts (reads; registrations are change requests). */
  sftp: SftpService;
  /** Passkeys (WebAuthn): registration and removal on the account page, sign-in (second factor or passwordless). */
  passkeys: PasskeyService;
  /** The operator's phishing-resistant rules for delegated administrators and what they ask of an account at sign-in. */
  phishingResistant: PhishingResistantPolicyService;
  /**
   * The outbox worker of this process: delivers what this process enqueues at once; `start()` (server/app.ts)
   * adds polling for retries and other processes' messages; `stop()` before the database closes.
   */
  mailDelivery: MailDelivery;
  /** Mail that is retrying or was given up, recipients masked (operator console). */
  listUndeliveredMail(limit?: number): Promise<UndeliveredMailView[]>;
  stores: IdentityStores;
  events: EventBus;
}

/** Wires the identity services and subscribes the audit log to the event bus. */
export function createIdentity(deps: IdentityDeps): Identity {
  const { stores, events, clock } = deps;
  recordEventsInAudit(events, stores.audit);
  const authenticatorPolicy = deps.authenticatorPolicy ?? DEFAULT_AUTHENTICATOR_POLICY;
  const mailDelivery = createMailDelivery({ outbox: stores.mailOutbox, transport: deps.mailer, events, clock, settings: deps.mailDelivery ?? DEFAULT_MAIL_DELIVERY_SETTINGS, logger: deps.logger });
  // Every email of the services below is an outbox row first.
  const mailer = createOutboxMailer(stores.mailOutbox, mailDelivery, clock);
  const issuer = deps.issuer ?? 'http://localhost:3000';
  const factors = createFactorRegistry(FACTORS, { stores, events, clock, lockout: deps.lockout, mailer, delivery: mailDelivery, displayName: deps.displayName, issuer, otp: deps.otp, authenticatorPolicy });
  const passwordSignIn = factors.byId.pwd.signIn;
  const signIn = createSignInFlow({
    factors,
    accounts: stores.accounts,
    preferredFactor: async (accountId) => ((await stores.authenticators.findPreferredFactor(accountId)) === 'app' ? 'totp' : 'otp'),
    fallback: { factor: 'otp', allowedBesideOthers: authenticatorPolicy.emailFallback },
  });
  const lockNotices = notifyHolderWhenLocked({ events, accounts: stores.accounts, mailer, clock, displayName: deps.displayName, timeZone: deps.timeZone ?? 'UTC', forgotPasswordUrl: `${issuer}/password/forgot`, logger: deps.logger });
  const recovery = createPasswordRecovery({ ...stores, events, mailer, delivery: mailDelivery, clock, displayName: deps.displayName, settings: deps.recovery ?? DEFAULT_RECOVERY_SETTINGS, setPasswordUrl: (token) => `${issuer}/password/set/${token}`, logger: deps.logger });
  return {
    accounts: createAccountService({ accounts: stores.accounts, organizations: stores.organizations, lockouts: stores.lockouts, events, clock }),
    organizations: createOrganizationService({ organizations: stores.organizations, events, clock }),
    factors,
    signIn,
    passwordSignIn,
    lockNotices,
    emailOtp: factors.byId.otp.codes,
    authenticatorApp: factors.byId.totp.app,
    authenticators: factors.byId.totp.registrations,
    campaigns: factors.byId.totp.campaigns,
    authenticatorPolicy,
    changePassword: createChangePassword({ accounts: stores.accounts, accountSessions: stores.accountSessions, passwordSignIn, events, mailer, clock, displayName: deps.displayName }),
    recovery,
    changeRequests: createChangeRequestService({ changeRequests: stores.changeRequests, accounts: stores.accounts, sftp: stores.sftp, events, mailer, clock, displayName: deps.displayName, timeZone: deps.timeZone, sendSetPasswordLink: recovery.sendSetPasswordLink }),
    sftp: createSftpService({ store: stores.sftp, clock }),
    passkeys: createPasskeyService({ passkeys: stores.passkeys, accounts: stores.accounts, lockouts: stores.lockouts, lockout: deps.lockout, events, mailer, clock, relyingParty: relyingPartyOf(issuer, deps.displayName), displayName: deps.displayName }),
    phishingResistant: createPhishingResistantPolicyService({ rules: stores.phishingResistantRules, memberships: (id) => stores.accounts.listMemberships(id), passkeyCount: async (id) => (await stores.passkeys.listActive(id)).length, events, clock }),
    mailDelivery,
    listUndeliveredMail: (limit) => listUndeliveredMail(stores.mailOutbox, limit),
    stores,
    events,
  };
}
