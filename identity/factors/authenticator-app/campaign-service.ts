/**
 * Re-registration campaigns (design/domain.md, seed circular 003): the operator requires every account whose
 * app was registered before a cutoff to register it again on or after an effective date. At sign-in, after
 * the second factor, such an account sees "Register device" / "Skip this step" (skip only until the
 * deadline). Accounts with emailed codes only are never affected.
 */
import { z } from 'zod';
import { DomainError, newId, toFieldErrors, type Clock } from '../../../lib/index.js';
import type { AuthenticatorPolicy } from '../../../policies/index.js';
import type { EventBus } from '../../events.js';
import type { CampaignProgress, ReregistrationCampaign } from '../../model.js';
import type { AuthenticatorStore, CampaignStore } from './stores.js';

const instant = (what: string) => z.coerce.date({ error: `Give ${what} as a date and time, e.g. 2024-12-15T00:00:00+08:00.` });

/** Input of {@link CampaignService.createCampaign}: ISO 8601 strings or Dates. */
export const createCampaignInput = z
  .object({ registeredBefore: instant('the registration cutoff'), effectiveFrom: instant('the effective date'), skipUntil: instant('the skip deadline').optional() })
  .refine((c) => !c.skipUntil || c.skipUntil >= c.effectiveFrom, { message: 'The skip deadline must not be before the effective date.', path: ['skipUntil'] });

/** A campaign with its progress. */
export interface CampaignView extends ReregistrationCampaign {
  progress: CampaignProgress;
}

/** What sign-in shows after the second factor, or null for nothing. */
export interface RegistrationPrompt {
  /** The campaign asking, or null for the plain registration offer (policy `offerRegistrationAtSignIn`). */
  campaignId: string | null;
  /** Whether "Skip this step" is offered (false after the campaign's skip deadline). */
  skipAllowed: boolean;
}

/** Campaign use cases. */
export interface CampaignService {
  /** @throws DomainError `validation_failed` (fieldErrors per option). */
  createCampaign(input: z.input<typeof createCampaignInput>, actor: string): Promise<CampaignView>;
  /** Every campaign, newest first, with progress (affected / re-registered / skipped). */
  listCampaigns(): Promise<CampaignView[]>;
  /** @throws DomainError `not_found`; `conflict` when already closed. */
  closeCampaign(id: string, actor: string): Promise<CampaignView>;
  /**
   * What to ask `accountId` after its second factor at sign-in. `known.confirmedApp`: whether the sign-in's first
   * step found a confirmed app (read with the account): without one no campaign can ask (each asks about a confirmed
   * app), so only the registration offer is left and nothing is read.
   */
  registrationPrompt(accountId: string, known?: { confirmedApp: boolean }): Promise<RegistrationPrompt | null>;
  /**
   * Records "Skip this step". @throws DomainError `forbidden` when the campaign's skip deadline has passed
   * (or it no longer asks this account).
   */
  skip(accountId: string, campaignId: string | null, context?: { ip?: string | null }): Promise<void>;
}

/** Creates the service. */
export function createCampaignService(deps: { campaigns: CampaignStore; authenticators: AuthenticatorStore; events: EventBus; clock: Clock; policy: AuthenticatorPolicy }): CampaignService {
  const { campaigns, authenticators, events, clock, policy } = deps;
  const view = async (c: ReregistrationCampaign): Promise<CampaignView> => ({ ...c, progress: await campaigns.progress(c.id) });
  const skipAllowed = (c: ReregistrationCampaign, now: Date) => c.skipUntil === null || now < c.skipUntil;

  return {
    async createCampaign(input, actor) {
      const parsed = createCampaignInput.safeParse(input);
      if (!parsed.success) throw new DomainError('validation_failed', 'The campaign is not valid.', { fieldErrors: toFieldErrors(parsed.error.issues) });
      const now = clock.now();
      const campaign: ReregistrationCampaign = { id: newId(), ...parsed.data, skipUntil: parsed.data.skipUntil ?? null, createdAt: now, createdBy: actor, closedAt: null };
      await campaigns.create(campaign);
      await events.publish({ type: 'campaign.created', actor, data: { campaignId: campaign.id, registeredBefore: campaign.registeredBefore, effectiveFrom: campaign.effectiveFrom, skipUntil: campaign.skipUntil } }, now);
      return view(campaign);
    },
    async listCampaigns() {
      return Promise.all((await campaigns.list()).map(view));
    },
    async closeCampaign(id, actor) {
      const campaign = await campaigns.findById(id);
      if (!campaign) throw new DomainError('not_found', `No campaign has the id "${id}".`);
      if (!(await campaigns.close(id, clock.now()))) throw new DomainError('conflict', `Campaign ${id} is already closed.`);
      await events.publish({ type: 'campaign.closed', actor, data: { campaignId: id } }, clock.now());
      return view({ ...campaign, closedAt: clock.now() });
    },
    async registrationPrompt(accountId, known) {
      if (known && !known.confirmedApp) return policy.offerRegistrationAtSignIn ? { campaignId: null, skipAllowed: true } : null;
      const now = clock.now();
      const campaign = await campaigns.findPromptFor(accountId, now);
      if (campaign) return { campaignId: campaign.id, skipAllowed: skipAllowed(campaign, now) };
      if (policy.offerRegistrationAtSignIn && !(await authenticators.findConfirmed(accountId))) return { campaignId: null, skipAllowed: true };
      return null;
    },
    async skip(accountId, campaignId, context = {}) {
      const now = clock.now();
      if (campaignId) {
        // A campaign closed (or answered) meanwhile asks nothing any more: nothing to skip.
        const campaign = await campaigns.findPromptFor(accountId, now);
        if (campaign?.id === campaignId && !skipAllowed(campaign, now)) throw new DomainError('forbidden', 'The deadline for skipping has passed: register your device to continue.');
        if (campaign?.id === campaignId) await campaigns.recordSkip(campaignId, accountId, now);
      }
      await events.publish({ type: 'authenticator.reregistration_skipped', accountId, ip: context.ip ?? null, data: { campaignId } }, now);
    },
  };
}
