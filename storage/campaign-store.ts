/**
 * {@link CampaignStore} on PostgreSQL: `reregistration_campaigns` and `campaign_responses`. Which campaign asks
 * an account, and each campaign's progress, are computed from the confirmed registrations' `confirmed_at`.
 */
import { and, asc, count, desc, eq, isNull, lt, lte, notExists, sql } from 'drizzle-orm';
import type { CampaignStore } from '../identity/index.js';
import type { Db } from './database.js';
import { isUuid } from './postgres-errors.js';
import { authenticatorRegistrations as registrations, campaignResponses as responses, reregistrationCampaigns as campaigns } from './schema.js';

/** Creates the store over `db`. */
export function createCampaignStore(db: Db): CampaignStore {
  return {
    async create(campaign) {
      await db.insert(campaigns).values(campaign);
    },

    async findById(id) {
      if (!isUuid(id)) return null;
      const [row] = await db.select().from(campaigns).where(eq(campaigns.id, id));
      return row ?? null;
    },

    list: () => db.select().from(campaigns).orderBy(desc(campaigns.createdAt), desc(campaigns.id)),

    async close(id, now) {
      if (!isUuid(id)) return false;
      const closed = await db.update(campaigns).set({ closedAt: now }).where(and(eq(campaigns.id, id), isNull(campaigns.closedAt))).returning({ id: campaigns.id });
      return closed.length === 1;
    },

    async findPromptFor(accountId, now) {
      if (!isUuid(accountId)) return null;
      const reRegistered = db.select({ one: sql`1` }).from(responses)
        .where(and(eq(responses.campaignId, campaigns.id), eq(responses.accountId, accountId), eq(responses.outcome, 're_registered')));
      const [row] = await db.select({ campaign: campaigns }).from(campaigns)
        .innerJoin(registrations, and(eq(registrations.accountId, accountId), eq(registrations.status, 'confirmed'), lt(registrations.confirmedAt, campaigns.registeredBefore)))
        .where(and(isNull(campaigns.closedAt), lte(campaigns.effectiveFrom, now), notExists(reRegistered)))
        .orderBy(asc(campaigns.effectiveFrom), asc(campaigns.createdAt))
        .limit(1);
      return row?.campaign ?? null;
    },

    async recordSkip(campaignId, accountId, now) {
      await db.insert(responses).values({ campaignId, accountId, outcome: 'skipped', respondedAt: now })
        .onConflictDoUpdate({ target: [responses.campaignId, responses.accountId], set: { respondedAt: now }, setWhere: eq(responses.outcome, 'skipped') });
    },

    async recordReRegistration(accountId, previousConfirmedAt, now) {
      const affecting = await db.select({ id: campaigns.id }).from(campaigns)
        .where(and(isNull(campaigns.closedAt), lte(campaigns.effectiveFrom, now), sql`${campaigns.registeredBefore} > ${previousConfirmedAt.toISOString()}::timestamptz`));
      for (const { id } of affecting) {
        await db.insert(responses).values({ campaignId: id, accountId, outcome: 're_registered', respondedAt: now })
          .onConflictDoUpdate({ target: [responses.campaignId, responses.accountId], set: { outcome: 're_registered', respondedAt: now } });
      }
    },

    async progress(campaignId) {
      const campaign = isUuid(campaignId) ? (await db.select().from(campaigns).where(eq(campaigns.id, campaignId)))[0] : undefined;
      if (!campaign) return { affected: 0, reRegistered: 0, skipped: 0 };
      const byOutcome = await db.select({ outcome: responses.outcome, n: count() }).from(responses).where(eq(responses.campaignId, campaignId)).groupBy(responses.outcome);
      const answered = db.select({ one: sql`1` }).from(responses).where(and(eq(responses.campaignId, campaignId), eq(responses.accountId, registrations.accountId)));
      const [pending] = await db.select({ n: count() }).from(registrations)
        .where(and(eq(registrations.status, 'confirmed'), lt(registrations.confirmedAt, campaign.registeredBefore), notExists(answered)));
      const reRegistered = byOutcome.find((r) => r.outcome === 're_registered')?.n ?? 0;
      const skipped = byOutcome.find((r) => r.outcome === 'skipped')?.n ?? 0;
      return { affected: (pending?.n ?? 0) + reRegistered + skipped, reRegistered, skipped };
    },
  };
}
