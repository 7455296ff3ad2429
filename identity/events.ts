/**
 * The event catalogue (`noun.past_participle`) and a small in-process bus. The audit log and the logger
 * subscribe; publishing awaits every subscriber, so an event is recorded before the request answers.
 */
import type { AuditEvent } from './model.js';
import { newId } from '../lib/index.js';

/** Every event type, with what it means. `docs/events.md` lists the same. */
export const EVENT_TYPES = {
  'organization.created': 'An organization was created.',
  'organization.participant_id_added': 'The operator added a participant ID (data.participantId) to the organization.',
  'account.created': 'An account was created with its first membership.',
  'account.signed_in': 'Both factors succeeded; data.amr lists the methods (RFC 8176); data.factor names the second factor used: otp (emailed code), totp (authenticator app) or passkey (the console derives it from data.amr when absent).',
  'account.sign_in_failed': 'A sign-in step failed; data.reason is unknown_account, wrong_password, attempt_budget_exhausted, account_suspended, account_closed, account_locked, no_password, wrong_otp, expired_otp or replayed_otp (a code of an already used time step), and for a passkey unknown_credential, malformed_assertion, assertion_refused (origin, RP ID, challenge, signature, user verification or user handle wrong), counter_not_increased (passkey.clone_refused) or attempt_refused; data.factor is pwd, otp (emailed code), totp (authenticator app) or passkey.',
  'account.locked': 'Too many failures locked the account: LOCKOUT_MAX_FAILURES within a sliding window of LOCKOUT_WINDOW_SECONDS, or LOCKOUT_MAX_CONSECUTIVE_FAILURES since the last completed sign-in; data.factor (pwd, otp or totp) is the step whose failure locked it.',
  'account.lock_notified': 'An email telling the holder of an account that had just locked when it locked and how to unlock it (data.lockedAt) was queued in the mail outbox, which delivers it like every email (mail.delivery_failed if it is given up); data.sent is false, with data.errorId in the error log, when it could not even be queued.',
  'account.unlocked': 'The lock was cleared.',
  'account.signed_out': 'The IdP session ended (RP-initiated logout), with every grant of it: data.offlineGrants counts the offline grants (refresh tokens for offline_access) that ended with it.',
  'email_otp.sent': 'A one-time code for a sign-in was delivered to the mail server (the outbox worker sent it; until then the code page says it is being sent, and earlier codes keep working).',
  'authenticator.registration_started': 'A new authenticator app secret was issued (pending until a correct code confirms it); data.via is sign_in or account_page.',
  'authenticator.registered': 'An authenticator app registration was confirmed by a correct code; data.replaced says whether it replaced an earlier app (whose codes stopped working), data.campaignId the campaign it answered. A replacement on the account page also ended the account\'s other sessions and grants (data.grants, data.sessions, data.clients; data.logouts: each ended session\'s sid at each client, sent a back-channel logout token).',
  'authenticator.removed': 'The account holder removed their authenticator app (after a fresh code); they sign in with emailed codes. Every other session and grant of the account ended (data.grants, data.sessions, data.clients, data.logouts).',
  'authenticator.reset': 'The account\'s second factor was reset: its authenticator app (data.removed: one was registered) and its passkeys (data.passkeysRemoved, data.passkeyNames) were removed, by a confirmed reset_second_factor change request (data.reference) or by the operator (account reset-factor); the person was emailed and signs in with emailed codes.',
  'authenticator.reregistration_skipped': 'At sign-in the person chose "Skip this step" for a re-registration campaign (data.campaignId) or the registration offer.',
  'passkey.registered': 'The account holder registered a passkey on the account page (after a recent sign-in), verified against ISSUER\'s origin and RP ID with user verification: data.passkeyId, data.name, data.aaguid (the authenticator model, null when it gave none), data.deviceType (singleDevice or multiDevice), data.backedUp, data.userVerified (true: the authenticator verified the person), data.notified (the holder was emailed).',
  'passkey.clone_refused': 'A sign-in with a passkey was refused because its signature counter did not increase (WebAuthn Level 3 §6.1.1): two authenticators hold the same private key, so one is a clone. data.factor (passkey), data.passkeyId, data.credentialId (base64url), data.name, data.storedCounter, data.presentedCounter, data.removed (true: the passkey was removed, so neither authenticator can sign in with it again), data.clientId. The failure counts toward the lockout (account.sign_in_failed, reason counter_not_increased).',
  'passkey.removed': 'The account holder removed one of their passkeys on the account page (after a recent sign-in): data.passkeyId, data.name, data.notified. It can no longer sign in.',
  'account.preferred_factor_changed': 'The account holder chose their default second factor (data.factor: app or email).',
  'account.password_changed': 'The account holder changed their password on the account page (current password checked). Every other session and grant of the account ended (data.grants, data.sessions, data.clients, data.logouts).',
  'campaign.created': 'The operator created a re-registration campaign (data: registeredBefore, effectiveFrom, skipUntil).',
  'campaign.closed': 'The operator closed a re-registration campaign; it asks nobody any more.',
  'phishing_resistant_rule.changed': 'The operator set whether delegated administrators must have a passkey, for every organization (data.scope every_organization, organizationId null) or for one (data.scope organization): data.requirement (required, not_required, or every_organization: the organization follows the rule for every organization again), the rule now in force (data.required, data.gracePeriodSeconds, data.effectiveFrom: the start of the grace period, data.source) and data.before.',
  'password_reset.requested': 'Someone asked for a password reset ("Forgot password?"). data.outcome (audit only, never shown) is accepted, unknown_account, phone_mismatch, account_suspended, account_closed or rate_limited.',
  'password_reset.email_sent': 'A reset link (data.purpose reset) or a new account\'s set-password link (data.purpose set_password, data.reference of the change request) was delivered to the mail server by the outbox worker; older links of the same purpose stopped working. data.expiresAt is when this one expires.',
  'password_reset.email_failed': 'A recovery email could not be put in the mail outbox (the database failed; data.email: reset_link, password_changed or set_password_link; data.errorId is in the error log). Delivery failures are mail.delivery_failed.',
  'mail.delivery_failed': 'The outbox worker gave up an email after MAIL_MAX_ATTEMPTS failed attempts, or because what it carried expired first (data.mailId, data.purpose: email_otp, reset_link, set_password_link or notification; data.attempts; data.error). Each failed attempt before was logged (warn) and retried with back-off; the operator console lists such mail. A reset link given up returns its slot of PASSWORD_RESET_ACCOUNT_LIMIT.',
  'password_reset.link_rejected': 'A new password was submitted through a link that another request had just used (data.reason).',
  'password_reset.completed': 'The password was set through a link: lockout cleared, data.grants grants and data.sessions sessions ended (data.clients: the applications that held them; those with a back-channel logout URI were sent a logout token). data.purpose reset: the person was emailed a notice; set_password: a new account chose its first password.',
  'account.functions_changed': 'A confirmed change request replaced the functions of the account\'s membership (data.before, data.after, data.reference). When they differ, the grants that released the old functions (scope organization) were revoked, with their refresh and opaque access tokens: data.grants counts them and data.clients lists the applications that held them, and those with a back-channel logout URI were sent a logout token. The IdP session stays, so the person is signed in again without a password.',
  'account.suspended': 'A confirmed change request suspended the account; data.grants grants and data.sessions sessions were ended; data.clients lists the applications that held them, and those with a back-channel logout URI were sent a logout token.',
  'account.reactivated': 'A confirmed change request made a suspended account active again.',
  'account.closed': 'A confirmed change request closed the account; data.grants grants and data.sessions sessions were ended; data.clients lists the applications that held them, and those with a back-channel logout URI were sent a logout token.',
  'account.delegated_administrator_appointed': 'The operator completed a request appointing the account delegated administrator of the organization, or appointed it directly (data.direct: the first DAs of an organization).',
  'account.operator_granted': 'The operator CLI granted the account the operator role (account grant-operator).',
  'account.operator_revoked': 'The operator CLI revoked the account\'s operator role (account revoke-operator).',
  'account.delegated_administrator_removed': 'The operator completed a request removing the account\'s delegated administrator role in the organization.',
  'change_request.created': 'A DA (the maker) saved a new change request as a draft; data.type, data.clonedFromId when it is a clone.',
  'change_request.updated': 'The maker edited a draft; data.version is the new version.',
  'change_request.submitted': 'The maker submitted the request (Ready for checker); data.reference, data.notified = other DAs emailed.',
  'change_request.reclaimed': 'The maker took back a request nobody had claimed; it is a draft again.',
  'change_request.discarded': 'The maker discarded a draft.',
  'change_request.claimed': 'A DA other than the maker claimed the request to check it.',
  'change_request.confirmed': 'The checker confirmed the version they reviewed (data.version); data.status is completed (change applied) or sent_to_operator, and then data.operatorReason says why: operator_type (appointing or removing a DA) or shared_account (an account-wide change to an account that is also a member of another organization, docs/policies.md).',
  'change_request.rejected': 'The checker (or the operator) rejected the request; data.comment says why.',
  'change_request.completed': 'The operator completed a request sent to them; the change was applied, with the same events, mails and back-channel logouts as when a checker completes one.',
  'change_request.confirmation_refused': 'A confirmation was refused; data.reason is self_approval, version_changed, quota_exceeded or conflict.',
  'client.created': 'An OIDC client (downstream application) was registered; data.service is true for a service client (client_credentials), with data.organization (its organization id) and data.functions; data.tokenEndpointAuthMethod is how it authenticates (client_secret_basic, client_secret_post, private_key_jwt or none).',
  'refresh_token.reuse_detected': 'A refresh token was presented again after it had been rotated (RFC 9700 §4.14.2), or by two requests at once: the whole grant was revoked, so the token issued by the rotation stops working too; data.clientId, data.grantId.',
  'sftp_key.registered': 'A confirmed change request registered an SSH public key for the account\'s ECP SFTP access (data.fingerprint as ssh-keygen -l prints it, data.algorithm, data.bits, data.name, data.expiresAt or null, data.reference).',
  'sftp_key.removed': 'A confirmed change request removed one of the account\'s SSH keys (data.keyId, data.fingerprint, data.reference): the SFTP gateway refuses it from then on.',
  'sftp_key.disabled': 'The account lost EU_ECPSFTP (a confirmed change of functions, data.reference) and holds it in no other organization: its SSH keys were disabled (data.keys, data.fingerprints); they stay disabled if the function is granted again.',
  'sftp_source_range.added': 'A confirmed change request allowed a source address or CIDR range for the account\'s SFTP connections (data.cidr, data.name, data.reference).',
  'sftp_source_range.removed': 'A confirmed change request removed one of the account\'s SFTP source ranges (data.rangeId, data.cidr, data.reference).',
  'sftp.access_allowed': 'The SFTP gateway (data.gateway, its client id) asked whether data.userId may connect with the key data.fingerprint from ip, and the answer was yes, for the acting organization (organizationId) and data.folders; the gateway may rely on it for data.maxAgeSeconds (SFTP_DECISION_TTL_SECONDS). Asked at every connection and again while a session stays open.',
  'sftp.access_refused': 'The SFTP gateway asked the same and the answer was no; data.reason is unknown_account, account_suspended, account_closed, function_missing (no EU_ECPSFTP), unknown_key, key_removed, key_disabled, key_expired, source_not_allowed or throttled (SFTP_REFUSAL_LIMIT refusals of this key from this address within SFTP_REFUSAL_WINDOW_SECONDS).',
  'sftp.file_received': 'A file uploaded through the SFTP gateway (data.gateway) was stored in the submission folder data.folder as data.fileName (data.bytes bytes), replacing any earlier file of that name; data.sha256 is the SHA-256 of its content, as in the receipt `<fileName>.sha256` written beside it.',
  'signing_key.rotated': 'A new signing key was generated; older keys keep verifying until their tokens expire.',
} as const;

/** One of {@link EVENT_TYPES}. */
export type EventType = keyof typeof EVENT_TYPES;

/** What a publisher supplies; id and time are added by {@link EventBus.publish}. */
export interface EventInput {
  type: EventType;
  accountId?: string | null;
  organizationId?: string | null;
  actor?: string | null;
  ip?: string | null;
  data?: Record<string, unknown>;
}

/**
 * How an event reached a subscriber. `recorded`: it is already in the audit log, written in the transaction of
 * the change it describes (design/style.md), so the audit log must not append it again.
 */
export interface EventDelivery {
  recorded: boolean;
}

/** A subscriber; rejections propagate to the publisher. */
export type EventSubscriber = (event: AuditEvent, delivery: EventDelivery) => Promise<void> | void;

/** Publishes domain events to its subscribers. */
export interface EventBus {
  /** Stamps the event with an id and `now` ({@link stampEvent}), then awaits every subscriber. Returns the stamped event. */
  publish(input: EventInput, now: Date): Promise<AuditEvent>;
  /**
   * Awaits every subscriber with `event` (`recorded: true`): an event stamped by {@link stampEvent} and appended
   * to the audit log in its change's transaction. Call it once that transaction has committed.
   */
  publishRecorded(event: AuditEvent): Promise<void>;
  subscribe(subscriber: EventSubscriber): void;
}

/** The event `input` describes, with a new id and `now` as the time it occurred. */
export function stampEvent(input: EventInput, now: Date): AuditEvent {
  return {
    id: newId(),
    type: input.type,
    occurredAt: now,
    accountId: input.accountId ?? null,
    organizationId: input.organizationId ?? null,
    actor: input.actor ?? null,
    ip: input.ip ?? null,
    data: input.data ?? {},
  };
}

/** Creates an {@link EventBus} with no subscribers. */
export function createEventBus(): EventBus {
  const subscribers: EventSubscriber[] = [];
  return {
    async publish(input, now) {
      const event = stampEvent(input, now);
      for (const subscriber of subscribers) await subscriber(event, { recorded: false });
      return event;
    },
    async publishRecorded(event) {
      for (const subscriber of subscribers) await subscriber(event, { recorded: true });
    },
    subscribe(subscriber) {
      subscribers.push(subscriber);
    },
  };
}
