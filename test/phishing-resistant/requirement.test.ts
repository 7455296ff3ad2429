import { describe, expect, it } from 'vitest';
import { phishingResistantRequirement, ruleForOrganization, type PhishingResistantRules, type StoredPhishingResistantRule } from '../../identity/index.js';
import { DEFAULT_PHISHING_RESISTANT_RULE } from '../../policies/index.js';

const DAY = 86_400;
const start = new Date('2026-12-01T00:00:00Z');
const rule = (organizationId: string | null, required: boolean, gracePeriodSeconds = 14 * DAY, effectiveFrom = start): StoredPhishingResistantRule => ({ organizationId, required, gracePeriodSeconds, effectiveFrom, updatedAt: effectiveFrom, updatedBy: 'operator:test' });
const rules = (...stored: StoredPhishingResistantRule[]): PhishingResistantRules => ({
  everyOrganization: stored.find((r) => r.organizationId === null) ?? null,
  organizations: new Map(stored.filter((r) => r.organizationId).map((r) => [r.organizationId!, r])),
});
const da = (organizationId: string) => ({ organizationId, delegatedAdministrator: true });
const user = (organizationId: string) => ({ organizationId, delegatedAdministrator: false });
const at = (days: number) => new Date(start.getTime() + days * DAY * 1000);

describe('what the phishing-resistant rules ask of one account', () => {
  it('asks nothing by default, nor of an account that is no delegated administrator where the rule requires it', () => {
    expect(ruleForOrganization(rules(), 'org-a')).toEqual({ rule: DEFAULT_PHISHING_RESISTANT_RULE, source: 'default', stored: null });
    expect(phishingResistantRequirement({ memberships: [da('org-a')], passkeys: 0, rules: rules() }, at(1))).toMatchObject({ required: false, askToRegister: false, deadline: null, mustRegisterNow: false });
    expect(phishingResistantRequirement({ memberships: [user('org-a')], passkeys: 0, rules: rules(rule(null, true)) }, at(30))).toMatchObject({ required: false, askToRegister: false, mustRegisterNow: false });
  });

  it('asks a delegated administrator without a passkey with skip until the grace period ends, then requires registering', () => {
    const everywhere = rules(rule(null, true, 14 * DAY));
    const during = phishingResistantRequirement({ memberships: [user('org-b'), da('org-a')], passkeys: 0, rules: everywhere }, at(13.9));
    expect(during).toEqual({ required: true, organizationIds: ['org-a'], passkeys: 0, askToRegister: true, deadline: at(14), mustRegisterNow: false, signInWithPasskey: false });
    expect(phishingResistantRequirement({ memberships: [da('org-a')], passkeys: 0, rules: everywhere }, at(14)).mustRegisterNow).toBe(true);
    const met = phishingResistantRequirement({ memberships: [da('org-a')], passkeys: 2, rules: everywhere }, at(30));
    expect(met).toMatchObject({ required: true, askToRegister: false, mustRegisterNow: false, signInWithPasskey: true, passkeys: 2 });
  });

  it("lets an organization's own rule override the rule for every organization, both ways, and takes the earliest deadline", () => {
    const set = rules(rule(null, true, 30 * DAY), rule('org-a', false), rule('org-c', true, 2 * DAY, at(5)));
    expect(ruleForOrganization(set, 'org-a').source).toBe('organization');
    expect(ruleForOrganization(set, 'org-b').source).toBe('every_organization');
    expect(phishingResistantRequirement({ memberships: [da('org-a')], passkeys: 0, rules: set }, at(40)).required).toBe(false);
    const both = phishingResistantRequirement({ memberships: [da('org-b'), da('org-c'), da('org-a')], passkeys: 0, rules: set }, at(6));
    expect(both).toMatchObject({ required: true, organizationIds: ['org-b', 'org-c'], deadline: at(7), mustRegisterNow: false });
    expect(phishingResistantRequirement({ memberships: [da('org-b'), da('org-c')], passkeys: 0, rules: set }, at(7)).mustRegisterNow).toBe(true);
    const onlyB = phishingResistantRequirement({ memberships: [da('org-b')], passkeys: 0, rules: rules(rule(null, false), rule('org-b', true, 0, at(1))) }, at(1));
    expect(onlyB).toMatchObject({ required: true, deadline: at(1), mustRegisterNow: true });
  });

  it('never ends the grace period of a rule without a start (a value rather than a rule set at a time)', () => {
    const valueRule: PhishingResistantRules = { everyOrganization: { ...rule(null, true), effectiveFrom: null as unknown as Date }, organizations: new Map() };
    expect(phishingResistantRequirement({ memberships: [da('org-a')], passkeys: 0, rules: valueRule }, at(1000))).toMatchObject({ required: true, askToRegister: true, deadline: null, mustRegisterNow: false });
  });
});
