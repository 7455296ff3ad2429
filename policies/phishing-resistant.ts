/**
 * Phishing-resistant sign-in for delegated administrators (issue 13 §4): the operator may require the
 * delegated administrators of every organization, or of one organization, to sign in with a phishing-resistant
 * factor — a passkey (W3C WebAuthn Level 3; NIST SP 800-63B §5.2.5 "verifier impersonation resistance").
 * Emailed codes and authenticator-app codes can be relayed by a fake sign-in page; a passkey is bound to the
 * IdP's origin and cannot.
 *
 * Those a rule applies to and who have no passkey yet are asked to register one at their next sign-in, the way
 * re-registration campaigns ask (design/domain.md): they may skip until the rule's grace period has passed
 * (counted from the rule's `effectiveFrom`), and must register before going on afterwards.
 *
 * {@link DEFAULT_PHISHING_RESISTANT_RULE} is the rule for every organization until the operator sets another in
 * the console (stored in the database, with per-organization overrides); identity/factors/phishing-resistant-policy.ts
 * decides what it means for one account.
 */

/** The rule for delegated administrators (of every organization, or of one). */
export interface PhishingResistantRule {
  /** Whether delegated administrators must have a passkey (and sign in with it once they have one). */
  required: boolean;
  /**
   * How long, in seconds, after {@link effectiveFrom} a delegated administrator without a passkey may still
   * skip registering one at sign-in. 0: no grace, they must register at their next sign-in.
   */
  gracePeriodSeconds: number;
  /**
   * When the requirement took effect (when the operator set it), the start of the grace period. Null: no start
   * is known (a rule given as a value rather than set at a time), so the grace period never ends and "Skip"
   * stays possible, as for a campaign without a skip deadline.
   */
  effectiveFrom: Date | null;
}

/** Default grace period: 14 days, in seconds. */
export const DEFAULT_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS = 14 * 24 * 3600;

/** The longest grace period the operator may set: 365 days, in seconds. */
export const MAX_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS = 365 * 24 * 3600;

/**
 * The rule for every organization while the operator has set none: not required, with a grace period of
 * {@link DEFAULT_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS} for when they turn it on.
 */
export const DEFAULT_PHISHING_RESISTANT_RULE: PhishingResistantRule = { required: false, gracePeriodSeconds: DEFAULT_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS, effectiveFrom: null };

