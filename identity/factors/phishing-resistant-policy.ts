/**
 * The phishing-resistant requirement (issue 13 §4): which rule holds for each organization, what it asks of one
 * account at sign-in, and the operator's changes to it.
 *
 * A rule (policies/phishing-resistant.ts) holds for the delegated administrators of an organization: the
 * organization's own rule when the operator set one, else the rule for every organization the operator set,
 * else {@link DEFAULT_PHISHING_RESISTANT_RULE} (not required). An account is concerned through its delegated
 * administrator memberships only; its other memberships never require anything.
 *
 * Like a re-registration campaign (../authenticators/campaign-service.ts), a requirement asks at the next
 * sign-in, after the second factor: "Register a passkey" with "Skip this step" until the grace period has
 * passed (`deadline`), then registering is the only way on (`mustRegisterNow`). Once the account has a passkey
 * it is asked nothing more, and sign-in should take the passkey as its second factor (`signInWithPasskey`).
 */
import { z } from 'zod';
import { DomainError, toFieldErrors, type Clock } from '../../lib/index.js';
import { DEFAULT_PHISHING_RESISTANT_RULE, MAX_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS, type PhishingResistantRule } from '../../policies/index.js';
import type { EventBus } from '../events.js';
import type { Membership } from '../model.js';

/** A rule the operator set: for every organization (`organizationId` null) or for one. */
export interface StoredPhishingResistantRule extends PhishingResistantRule {
  /** Null: the rule for every organization. */
  organizationId: string | null;
  /** When the requirement took effect: the grace period starts here (kept when only the grace period changes). */
  effectiveFrom: Date;
  /** When the operator last changed it. */
  updatedAt: Date;
  /** The audit actor who set it, e.g. `operator:<account id>`. */
  updatedBy: string;
}

/** Storage of the operator's rules (storage/phishing-resistant-rule-store.ts on PostgreSQL). */
export interface PhishingResistantRuleStore {
  /** The rule for every organization (if set) and the rules of `organizationIds` (every organization's when omitted). */
  list(organizationIds?: readonly string[]): Promise<StoredPhishingResistantRule[]>;
  /** Inserts or replaces the rule of its scope (one statement). */
  save(rule: StoredPhishingResistantRule): Promise<void>;
  /** Deletes the organization's own rule, so the rule for every organization holds again. @returns whether one existed. */
  remove(organizationId: string): Promise<boolean>;
}

/** Where an organization's rule comes from. */
export type PhishingResistantRuleSource = 'organization' | 'every_organization' | 'default';

/** The rules that decide: the one for every organization and the organizations' own. */
export interface PhishingResistantRules {
  /** The operator's rule for every organization, or null for {@link DEFAULT_PHISHING_RESISTANT_RULE}. */
  everyOrganization: StoredPhishingResistantRule | null;
  /** Organizations' own rules by organization id. */
  organizations: ReadonlyMap<string, StoredPhishingResistantRule>;
}

/** The rule that holds for one organization and where it comes from. */
export interface EffectivePhishingResistantRule {
  /** The rule in force. */
  rule: PhishingResistantRule;
  /** Whose it is: the organization's own, the one for every organization, or the policies/ default. */
  source: PhishingResistantRuleSource;
  /** The stored rule it comes from (null for the default), for who set it and when. */
  stored: StoredPhishingResistantRule | null;
}

/** What the requirement means for one account at `now` ({@link phishingResistantRequirement}). */
export interface PhishingResistantRequirement {
  /** A rule requires a passkey of this account: it is a delegated administrator of an organization whose rule says so. */
  required: boolean;
  /** The organizations whose rule requires it (of the account's delegated administrator memberships). */
  organizationIds: string[];
  /** How many passkeys the account has (not removed). */
  passkeys: number;
  /**
   * Ask at sign-in, after the second factor, to register a passkey: `required` and no passkey yet. The prompt
   * offers "Skip this step" unless {@link mustRegisterNow}.
   */
  askToRegister: boolean;
  /**
   * The end of the grace period (the earliest of the requiring rules' `effectiveFrom + gracePeriodSeconds`);
   * null when not required, or when no requiring rule has a start (a rule given as a value: skipping never ends).
   */
  deadline: Date | null;
  /** `askToRegister` and the deadline has passed (`now >= deadline`): no skip; sign-in goes on only after registering. */
  mustRegisterNow: boolean;
  /** `required` and the account has a passkey: sign-in should ask for the passkey as the second factor, not a code. */
  signInWithPasskey: boolean;
}

/** The rule holding for `organizationId` under `rules`. */
export function ruleForOrganization(rules: PhishingResistantRules, organizationId: string): EffectivePhishingResistantRule {
  const own = rules.organizations.get(organizationId);
  if (own) return { rule: own, source: 'organization', stored: own };
  if (rules.everyOrganization) return { rule: rules.everyOrganization, source: 'every_organization', stored: rules.everyOrganization };
  return { rule: DEFAULT_PHISHING_RESISTANT_RULE, source: 'default', stored: null };
}

/**
 * What the rules ask of an account with `memberships` and `passkeys` passkeys at `now` (pure: no I/O).
 * Only delegated administrator memberships count; the earliest deadline among the requiring rules holds.
 */
export function phishingResistantRequirement(input: { memberships: readonly Pick<Membership, 'organizationId' | 'delegatedAdministrator'>[]; passkeys: number; rules: PhishingResistantRules }, now: Date): PhishingResistantRequirement {
  const requiring = input.memberships
    .filter((m) => m.delegatedAdministrator)
    .map((m) => ({ organizationId: m.organizationId, rule: ruleForOrganization(input.rules, m.organizationId).rule }))
    .filter((r) => r.rule.required);
  const ends = requiring.filter((r) => r.rule.effectiveFrom !== null).map((r) => r.rule.effectiveFrom!.getTime() + r.rule.gracePeriodSeconds * 1000);
  const deadline = ends.length > 0 ? new Date(Math.min(...ends)) : null;
  const required = requiring.length > 0;
  const askToRegister = required && input.passkeys === 0;
  return {
    required,
    organizationIds: requiring.map((r) => r.organizationId),
    passkeys: input.passkeys,
    askToRegister,
    deadline: required ? deadline : null,
    mustRegisterNow: askToRegister && deadline !== null && now.getTime() >= deadline.getTime(),
    signInWithPasskey: required && input.passkeys > 0,
  };
}

/** What the operator may choose for a scope: an organization may also follow the rule for every organization. */
export const PHISHING_RESISTANT_REQUIREMENTS = ['required', 'not_required', 'every_organization'] as const;

/** Input of {@link PhishingResistantPolicyService.setRule}. */
export const setPhishingResistantRuleInput = z.object({
  requirement: z.enum(PHISHING_RESISTANT_REQUIREMENTS, { error: 'Choose whether delegated administrators need a passkey.' }),
  gracePeriodSeconds: z.coerce
    .number({ error: 'Give the grace period as a whole number.' })
    .int('Give the grace period as a whole number.')
    .min(0, 'The grace period cannot be negative.')
    .max(MAX_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS, `The grace period is at most ${MAX_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS / 86400} days.`),
});

/** The phishing-resistant requirement's use cases. */
export interface PhishingResistantPolicyService {
  /**
   * What the rules ask of `accountId` now (reads its memberships, its passkeys and the rules). Sign-in calls it
   * after the second factor. An unknown account has no memberships: nothing is required.
   */
  requirementFor(accountId: string): Promise<PhishingResistantRequirement>;
  /**
   * What the rules ask of `accountId` at sign-in, after the second factor: as {@link requirementFor}, but null
   * when no rule can concern the account (it is no delegated administrator), found without reading its passkeys
   * or any rule. `memberships`: the account's, when the sign-in read them already (else they are read).
   */
  requirementAtSignIn(accountId: string, memberships?: readonly Membership[]): Promise<PhishingResistantRequirement | null>;
  /** The rules in force: for every organization and the organizations' own. */
  rules(): Promise<PhishingResistantRules>;
  /** The rule holding for `organizationId`; for null, the rule for every organization (`every_organization` or `default`). */
  ruleFor(organizationId: string | null): Promise<EffectivePhishingResistantRule>;
  /**
   * The operator sets the rule for every organization (`organizationId` null) or for one; `every_organization`
   * removes an organization's own rule (not allowed for every organization itself). Turning the requirement on
   * starts the grace period now; changing only the grace period keeps its start. Publishes
   * `phishing_resistant_rule.changed`.
   * @throws DomainError `validation_failed` (fieldErrors `requirement`, `gracePeriodSeconds`).
   */
  setRule(organizationId: string | null, input: z.input<typeof setPhishingResistantRuleInput>, actor: string): Promise<EffectivePhishingResistantRule>;
}

/** What {@link createPhishingResistantPolicyService} needs. */
export interface PhishingResistantPolicyDeps {
  rules: PhishingResistantRuleStore;
  /** The account's memberships (`AccountStore.listMemberships`). */
  memberships: (accountId: string) => Promise<Membership[]>;
  /** How many passkeys (not removed) the account has. */
  passkeyCount: (accountId: string) => Promise<number>;
  events: EventBus;
  clock: Clock;
}

const rulesOf = (stored: StoredPhishingResistantRule[]): PhishingResistantRules => ({
  everyOrganization: stored.find((r) => r.organizationId === null) ?? null,
  organizations: new Map(stored.filter((r) => r.organizationId !== null).map((r) => [r.organizationId!, r])),
});

/** Creates the service. */
export function createPhishingResistantPolicyService(deps: PhishingResistantPolicyDeps): PhishingResistantPolicyService {
  const { events, clock } = deps;
  const rules = async (organizationIds?: readonly string[]) => rulesOf(await deps.rules.list(organizationIds));
  const effectiveOf = async (organizationId: string | null): Promise<EffectivePhishingResistantRule> => {
    if (organizationId !== null) return ruleForOrganization(await rules([organizationId]), organizationId);
    const every = (await rules([])).everyOrganization;
    return every ? { rule: every, source: 'every_organization', stored: every } : { rule: DEFAULT_PHISHING_RESISTANT_RULE, source: 'default', stored: null };
  };

  return {
    async requirementFor(accountId) {
      const [memberships, passkeys] = await Promise.all([deps.memberships(accountId), deps.passkeyCount(accountId)]);
      const administered = memberships.filter((m) => m.delegatedAdministrator).map((m) => m.organizationId);
      const current = administered.length > 0 ? await rules(administered) : rulesOf([]);
      return phishingResistantRequirement({ memberships, passkeys, rules: current }, clock.now());
    },
    async requirementAtSignIn(accountId, known) {
      const memberships = known ?? (await deps.memberships(accountId));
      const administered = memberships.filter((m) => m.delegatedAdministrator).map((m) => m.organizationId);
      if (administered.length === 0) return null;
      const [current, passkeys] = await Promise.all([rules(administered), deps.passkeyCount(accountId)]);
      return phishingResistantRequirement({ memberships, passkeys, rules: current }, clock.now());
    },
    rules: () => rules(),
    ruleFor: (organizationId) => effectiveOf(organizationId),
    async setRule(organizationId, input, actor) {
      const parsed = setPhishingResistantRuleInput.safeParse(input);
      if (!parsed.success) throw new DomainError('validation_failed', 'The rule is not valid.', { fieldErrors: toFieldErrors(parsed.error.issues) });
      const { requirement, gracePeriodSeconds } = parsed.data;
      if (organizationId === null && requirement === 'every_organization') {
        throw new DomainError('validation_failed', 'The rule is not valid.', { fieldErrors: { requirement: ['Choose required or not required for every organization.'] } });
      }
      const before = await effectiveOf(organizationId);
      const now = clock.now();
      if (requirement === 'every_organization') {
        await deps.rules.remove(organizationId!);
      } else {
        const required = requirement === 'required';
        // Only turning the requirement on starts a grace period; a new grace period keeps the start it had.
        const effectiveFrom = required && before.rule.required && before.rule.effectiveFrom ? before.rule.effectiveFrom : now;
        await deps.rules.save({ organizationId, required, gracePeriodSeconds, effectiveFrom, updatedAt: now, updatedBy: actor });
      }
      const after = await effectiveOf(organizationId);
      await events.publish({
        type: 'phishing_resistant_rule.changed', organizationId, actor,
        data: {
          scope: organizationId === null ? 'every_organization' : 'organization', requirement,
          required: after.rule.required, gracePeriodSeconds: after.rule.gracePeriodSeconds, effectiveFrom: after.rule.effectiveFrom, source: after.source,
          before: { required: before.rule.required, gracePeriodSeconds: before.rule.gracePeriodSeconds, source: before.source },
        },
      }, now);
      return after;
    },
  };
}
