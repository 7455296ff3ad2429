/**
 * The interface every sign-in factor implements (the pattern of ory/kratos' `login.Strategy`, in our words):
 * password, emailed code, authenticator app, passkey. A factor is one folder under `identity/factors/` with the
 * same parts: its {@link FactorStrategy} (`id`, `amr`, `steps`, `isEnrolled`, `begin`, `verify`, `enroll`,
 * `remove`), its store interface (`stores.ts`, implemented in storage/), and the events it publishes (listed in
 * `events`, described in ../events.ts). The sign-in flow (../authentication/sign-in-flow.ts) asks the strategies,
 * never a concrete factor, which step comes next; the registry (./registry.ts, one line per factor in ./index.ts)
 * is how it finds them.
 *
 * `amr` values are RFC 8176 §2's (`pwd`, `otp`, `swk`, `hwk`, `user`, `mfa`, …); `acr` is the OIDC Core §2
 * Authentication Context Class Reference a factor may raise the sign-in to (e.g. `phr`, phishing-resistant).
 */
import type { Account, AccountView } from '../model.js';
import type { AttemptContext } from '../authentication/sign-in.js';

/**
 * A factor's stable name: the registry key, the sign-in state's, and the audit log's `data.factor`
 * (`pwd` password, `otp` emailed code, `totp` authenticator app, `passkey`).
 */
export type FactorId = string;

/**
 * Where a factor may stand in a sign-in.
 * - `first: 'identifies'`: it finds the account and a second factor follows (the password).
 * - `first: 'completes'`: it finds the account and counts as both factors, its `amr` from itself (a passkey with
 *   user verification: passwordless). Its verification records `account.signed_in`.
 * - `second: true`: it may follow a first step that identified the account (emailed code, app, passkey).
 */
export interface FactorSteps {
  first?: 'identifies' | 'completes';
  second?: boolean;
}

/** A sign-in binding: the interaction (OIDC Core §3.1.2.1 authorization request) a challenge belongs to. */
export interface FactorBinding {
  /** The interaction's uid: codes and challenges are bound to it and work for no other sign-in. */
  bindingId: string;
  /** Who is signing in, for the audit log. */
  context: AttemptContext;
  /**
   * The ACR values the authorization request asked for (`acr_values`, OIDC Core §3.1.2.1), in order; empty or
   * absent when it asked for none. When one of them is a factor's {@link FactorStrategy.acr}, the sign-in flow
   * asks only such factors as second step.
   */
  acrValues?: readonly string[];
}

/**
 * A first step's lockout reservation still to be given back (`LockoutStore.releaseAttempt`): the right password's,
 * reserved at `reservedAt` before argon2 ran. The sign-in flow hands it to the second factor's begin, which gives it
 * back in its own write, or gives it back itself (design/security.md §2: a right password is no failure).
 */
export interface PendingRelease {
  accountId: string;
  reservedAt: Date;
}

/** What {@link FactorStrategy.begin} is given. */
export interface FactorBeginInput extends FactorBinding {
  /**
   * A first step's reservation to give back in the begin's own write; given only to a strategy with
   * {@link FactorStrategy.releasesInBegin} (and that begin then always gives it back, or throws).
   */
  release?: PendingRelease;
  /** The account, known after a first step; null when a first-step factor begins before anyone is known (passkey autofill). */
  account: Account | null;
  /**
   * True when the person asked for it again (emailed code: "Resend code"): a factor that limits how often it
   * begins then refuses with DomainError `rate_limited`. False on the first begin of the step, which never
   * throws `rate_limited` (the earlier challenge still works).
   */
  repeat: boolean;
}

/**
 * What a begun step remembers until it is verified, persisted with the sign-in state (so any instance serves the
 * next request): small JSON values only, never a secret (e.g. the emailed code's masked address `{ sentTo }`).
 */
export type FactorChallenge = Record<string, string | number | boolean | null>;

/** What {@link FactorStrategy.verify} is given besides the submission. */
export interface FactorAttempt extends FactorBinding {
  /** The account a first step identified; null for a first step (the submission identifies it). */
  accountId: string | null;
  /** What {@link FactorStrategy.begin} returned for this step (`{}` when it was not begun). */
  challenge: FactorChallenge;
  /**
   * Set when a success completes the sign-in: `amr` of the steps before (`['pwd']` after the password, `[]` for a
   * `completes` first step). The factor then records `account.signed_in` with {@link composeAmr} of those and its
   * own, in the statement that resets the lockout counts. Null when it does not complete one (a first step that
   * identifies, or a fresh check on the account page).
   */
  completes: { amr: readonly string[] } | null;
  /**
   * Set by the sign-in flow on a first step that identifies: a right answer's lockout reservation is left in the
   * outcome (`release`) for the flow to give back with the next write, instead of a round trip of its own.
   */
  holdRelease?: boolean;
}

/**
 * What a first step read about the account's registered factors in the statement that found the account, so the
 * sign-in flow need not ask each factor again ({@link FactorStrategy.isEnrolled}'s `known`): how many passkeys it
 * has (not removed) and whether an authenticator app is confirmed. A snapshot of that moment, kept in the sign-in
 * state: it only chooses what to ask and what to offer, it never lets a sign-in through.
 */
export interface EnrolledFactors {
  passkeys: number;
  confirmedApp: boolean;
}

/**
 * The result of a verification. `ok`: the account it proved (and, when the factor read it anyway, the account
 * itself, so the flow reads it no more; `enrolled` when it read the account's factors with it, and `view` when it
 * read the account's view with memberships: null when the account is gone; `release` when `holdRelease` left its
 * reservation to the flow), the sign-in's `amr` (composed as {@link composeAmr} when `completes` was
 * set, else the factor's own), and an `acr` when the factor raises the sign-in to one. `invalid` never says why
 * (the audit event does); `expired`: the challenge is too old (the page says to ask for a new one); `locked`:
 * the account is locked (for a password: only after the right password).
 */
export type FactorOutcome =
  | { outcome: 'ok'; accountId: string; account?: Account; enrolled?: EnrolledFactors; view?: AccountView | null; release?: PendingRelease; amr: string[]; acr?: string }
  | { outcome: 'invalid' }
  | { outcome: 'expired' }
  | { outcome: 'locked'; accountId?: string };

/**
 * Result of checking a one-time code (emailed or from the app): `amr` is the sign-in's on success; `view` the
 * account's view when the check read it in its own statement (null: the account is gone).
 */
export type OtpOutcome = { outcome: 'ok'; amr: string[]; view?: AccountView | null } | { outcome: 'invalid' } | { outcome: 'expired' } | { outcome: 'locked' };

/** Where an enrollment was started, for the audit log. */
export type EnrollmentVia = 'sign_in' | 'account_page';

/** The context of an enrollment or removal: audit, the IdP session (to end the others), the campaign it answers. */
export interface EnrollmentContext extends AttemptContext {
  /** The IdP session that made the change; with it, the account's other sessions and grants end on a replacement or removal. */
  sessionUid?: string;
  /** The re-registration campaign this enrollment answers (sign-in prompt), or null. */
  campaignId?: string | null;
}

/** The result of completing an enrollment. `expired`: nothing pending (or too old): begin again. */
export type EnrollmentOutcome = { outcome: 'ok'; replaced: boolean } | { outcome: 'invalid' } | { outcome: 'expired' };

/**
 * Registering the factor for an account (an app's QR code and first code, a passkey's creation ceremony), from the
 * account page or a sign-in prompt. `TSetup`: what the page shows (JSON-serialisable); `TSubmission`: what the
 * person answers, already validated by the page.
 */
export interface FactorEnrollment<TSetup = unknown, TSubmission = unknown> {
  /** Starts a registration; the registered factor, if any, keeps working until one completes. */
  begin(account: Account, via: EnrollmentVia, context?: EnrollmentContext): Promise<TSetup>;
  /** The registration begun and still usable, to show its page again; null when there is none. */
  findPending(account: Account, context?: EnrollmentContext): Promise<TSetup | null>;
  /** Completes it with the person's answer; publishes the factor's `…registered` event and emails the holder. */
  complete(account: Account, submission: TSubmission, context?: EnrollmentContext): Promise<EnrollmentOutcome>;
  /**
   * Whether this factor asks the account to register at sign-in, after both factors (a re-registration campaign,
   * the registration offer, a policy that requires it): null when it does not. Absent: it never asks. `known`: what
   * the sign-in already read ({@link PromptFacts}), so the factor reads only what it still needs.
   */
  prompt?(accountId: string, known?: PromptFacts): Promise<EnrollmentPrompt | null>;
  /**
   * "Skip this step" at that prompt (records the skip and its event).
   * @throws DomainError `forbidden` when the prompt no longer allows skipping (past its deadline).
   */
  skip(accountId: string, campaignId: string | null, context?: EnrollmentContext): Promise<void>;
}

/**
 * What the sign-in flow already read when it asks for registration prompts: the account's registered factors as
 * its first step read them ({@link EnrolledFactors}; absent when no first step read them) and the account's view
 * as this request read it (memberships; null when the account is gone).
 */
export interface PromptFacts {
  enrolled?: EnrolledFactors;
  view?: AccountView | null;
}

/** A registration prompt at sign-in: the campaign asking (null: the plain offer or a policy) and whether "Skip this step" is offered. */
export interface EnrollmentPrompt {
  campaignId: string | null;
  skipAllowed: boolean;
}

/** The result of a holder's removal: `invalid` when the proof did not verify, `locked` when that locked the account. */
export type RemovalOutcome = { outcome: 'ok' } | { outcome: 'invalid' } | { outcome: 'locked' };

/** Removing the factor from an account. `TProof`: what the holder gives (a fresh code, the passkey's id). */
export interface FactorRemoval<TProof = unknown> {
  /** The holder removes it (account page); ends the account's other sessions when `context.sessionUid` is given. */
  byHolder(account: Account, proof: TProof, context?: EnrollmentContext): Promise<RemovalOutcome>;
  /** An administrator resets it (`account reset-factor`, maker-checker). @returns true when something was removed. */
  byAdministrator(account: Account, actor: string): Promise<boolean>;
}

/**
 * One sign-in factor. `TSubmission` is what its page forwards to {@link verify}, validated at the edge (idp/,
 * with zod). Every attempt of a factor that can fail is reserved against the lockout before it is checked, and
 * every failure counts (design/security.md §2; ./attempts.ts does it for a factor).
 */
export interface FactorStrategy<TSubmission = unknown, TSetup = unknown, TEnrollSubmission = unknown, TProof = unknown> {
  /** {@link FactorId}. */
  readonly id: FactorId;
  /** The RFC 8176 `amr` values a verification of this factor adds (a factor may report fewer or more per verification, e.g. `hwk` or `swk`). */
  readonly amr: readonly string[];
  /** {@link FactorSteps}. */
  readonly steps: FactorSteps;
  /** The event types (../events.ts) this factor publishes. */
  readonly events: readonly string[];
  /** The `acr` (OIDC Core §2) a verification of this factor gives the sign-in, e.g. `phr` for a passkey; absent when it gives none. */
  readonly acr?: string;
  /**
   * True when the account can use this factor now (an app confirmed, a passkey registered; the email address
   * always). With `known` (read with the account by the first step) it answers from that, without I/O.
   */
  isEnrolled(accountId: string, known?: EnrolledFactors): Promise<boolean>;
  /**
   * Starts the step: emails a code, issues WebAuthn request options. @returns what the step remembers (persisted
   * with the sign-in state, shown by its page). @throws DomainError `rate_limited` only when `repeat`; `unavailable`
   * when the challenge cannot be stored.
   */
  begin(input: FactorBeginInput): Promise<FactorChallenge>;
  /** True when {@link begin} takes a first step's {@link PendingRelease} and gives it back in its own write. */
  readonly releasesInBegin?: boolean;
  /** Gives back a {@link PendingRelease} this factor's `verify` left in its outcome (`holdRelease`). */
  giveBack?(release: PendingRelease): Promise<void>;
  /**
   * What the step's page may truthfully say now about the challenge begun (the emailed code's delivery), or null
   * when its page needs nothing read (the app's code page).
   */
  describe(accountId: string | null, binding: FactorBinding, challenge: FactorChallenge): Promise<unknown>;
  /** Checks what the person submitted. Never throws for a wrong answer; @throws DomainError `unavailable` (503) when the work cannot be taken on. */
  verify(attempt: FactorAttempt, submission: TSubmission): Promise<FactorOutcome>;
  /** Registering it, or null when it has no registration of its own (the password is set by recovery, the email address is the account's). */
  readonly enroll: FactorEnrollment<TSetup, TEnrollSubmission> | null;
  /** Removing it, or null when it cannot be removed (the password, the email address). */
  readonly remove: FactorRemoval<TProof> | null;
}

/**
 * The `amr` of a completed sign-in (RFC 8176 §2): the values of every step in order, each once, and `mfa` when
 * the steps were two or more factors (or a factor that counts as two says so with `mfa` itself).
 * @example composeAmr(['pwd'], ['otp']) // ['pwd', 'otp', 'mfa']
 * @example composeAmr(['pwd'], ['otp', 'swk']) // ['pwd', 'otp', 'swk', 'mfa']
 */
export function composeAmr(before: readonly string[], own: readonly string[]): string[] {
  const values = [...new Set([...before, ...own].filter((v) => v !== 'mfa'))];
  const multi = (before.length > 0 && own.length > 0) || own.includes('mfa') || before.includes('mfa');
  return multi ? [...values, 'mfa'] : values;
}
