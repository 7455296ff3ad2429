/**
 * {@link PhishingResistantRuleStore} on PostgreSQL (table `phishing_resistant_rules`): one row per scope, the
 * rule for every organization under scope `every_organization`, an organization's own under its id. Saving is
 * one `INSERT … ON CONFLICT (scope) DO UPDATE`.
 */
import { eq, inArray, isNull, or } from 'drizzle-orm';
import type { PhishingResistantRuleStore, StoredPhishingResistantRule } from '../identity/index.js';
import type { Db } from './database.js';
import { isUuid } from './postgres-errors.js';
import { phishingResistantRules as rules } from './schema.js';

/** The scope of the rule for every organization. */
const EVERY_ORGANIZATION = 'every_organization';

const toModel = (row: typeof rules.$inferSelect): StoredPhishingResistantRule => ({
  organizationId: row.organizationId, required: row.required, gracePeriodSeconds: row.gracePeriodSeconds,
  effectiveFrom: row.effectiveFrom, updatedAt: row.updatedAt, updatedBy: row.updatedBy,
});

/** Creates the store over `db`. */
export function createPhishingResistantRuleStore(db: Db): PhishingResistantRuleStore {
  return {
    async list(organizationIds) {
      const ids = organizationIds?.filter(isUuid);
      const where = ids === undefined ? undefined : ids.length > 0 ? or(isNull(rules.organizationId), inArray(rules.organizationId, ids)) : isNull(rules.organizationId);
      return (await db.select().from(rules).where(where)).map(toModel);
    },

    async save(rule) {
      const scope = rule.organizationId ?? EVERY_ORGANIZATION;
      const values = { required: rule.required, gracePeriodSeconds: rule.gracePeriodSeconds, effectiveFrom: rule.effectiveFrom, updatedAt: rule.updatedAt, updatedBy: rule.updatedBy };
      await db.insert(rules).values({ scope, organizationId: rule.organizationId, ...values }).onConflictDoUpdate({ target: rules.scope, set: values });
    },

    async remove(organizationId) {
      if (!isUuid(organizationId)) return false;
      return (await db.delete(rules).where(eq(rules.scope, organizationId)).returning({ scope: rules.scope })).length === 1;
    },
  };
}
