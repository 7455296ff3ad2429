/**
 * The storage the authenticator app factor needs; storage/authenticator-store.ts and storage/campaign-store.ts
 * implement it on PostgreSQL.
 */
import type { SecondFactor } from '../../../policies/index.js';
import type { AuthenticatorRegistration, CampaignProgress, ReregistrationCampaign } from '../../model.js';

/**
 * Authenticator app registrations (TOTP, RFC 6238) and the account's preferred second factor. Secrets cross
 * this interface in clear; the implementation encrypts them at rest (design/security.md §5).
 */
export interface AuthenticatorStore {
  findConfirmed(accountId: string): Promise<AuthenticatorRegistration | null>;
  findPending(accountId: string): Promise<AuthenticatorRegistration | null>;
  /** Stores a `pending` registration, replacing the account's earlier pending one (one transaction). */
  savePending(registration: AuthenticatorRegistration): Promise<void>;
  /**
   * Atomically turns pending registration `pendingId` of `accountId` into the confirmed one: the previous
   * confirmed registration is deleted in the same transaction (its codes stop working at commit), and
   * `last_used_step` is set to `step`, the step of the confirming code, so that code cannot sign in.
   * @returns the previous registration's `confirmedAt` (null when there was none), or `undefined` when the
   *   pending registration no longer exists (another request confirmed or replaced it).
   */
  confirm(pendingId: string, accountId: string, step: number, now: Date): Promise<{ previousConfirmedAt: Date | null } | undefined>;
  /**
   * Replay guard (RFC 6238 §5.2, design/security.md §4): one conditional UPDATE
   * `… SET last_used_step = step WHERE id = … AND status = 'confirmed' AND (last_used_step IS NULL OR last_used_step < step)`.
   * True for exactly one of any number of concurrent callers with the same step, on any instance.
   */
  useStep(registrationId: string, step: number): Promise<boolean>;
  /** Deletes the confirmed registration `registrationId` of the account. True when it existed. */
  removeConfirmed(accountId: string, registrationId: string): Promise<boolean>;
  /** Deletes every registration of the account, pending or confirmed. True when a confirmed one existed. */
  removeAll(accountId: string): Promise<boolean>;
  /** The account's preferred second factor (`app` by default; only meaningful while an app is confirmed). */
  findPreferredFactor(accountId: string): Promise<SecondFactor>;
  setPreferredFactor(accountId: string, factor: SecondFactor, now: Date): Promise<void>;
}

/** Re-registration campaigns and what each affected account did about them. */
export interface CampaignStore {
  create(campaign: ReregistrationCampaign): Promise<void>;
  findById(id: string): Promise<ReregistrationCampaign | null>;
  /** Every campaign, newest first. */
  list(): Promise<ReregistrationCampaign[]>;
  /** Sets `closedAt` when still open (conditional UPDATE). True when this call closed it. */
  close(id: string, now: Date): Promise<boolean>;
  /**
   * The open campaign that asks `accountId` to re-register at `now`: effective (`effectiveFrom <= now`), the
   * account's confirmed app was confirmed before `registeredBefore`, and the account has not re-registered for
   * it. The oldest such campaign; null when none.
   */
  findPromptFor(accountId: string, now: Date): Promise<ReregistrationCampaign | null>;
  /** Records that the account skipped the campaign (the latest skip time is kept; a re-registration is never overwritten). */
  recordSkip(campaignId: string, accountId: string, now: Date): Promise<void>;
  /**
   * Records `re_registered` for every open, effective campaign that affected the account's previous app
   * (`previousConfirmedAt < registeredBefore`).
   */
  recordReRegistration(accountId: string, previousConfirmedAt: Date, now: Date): Promise<void>;
  /** Affected accounts: those whose confirmed app predates the cutoff, plus those that re-registered for it. */
  progress(campaignId: string): Promise<CampaignProgress>;
}
