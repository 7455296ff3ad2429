import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_OPERATOR, DEMO_ORGANIZATION, DEMO_PASSWORD, seedDemoAccounts } from '../server/demo-data.js';
import { startTestIdp, type TestIdp } from './support/harness.js';

/** The demo data `npm start` seeds, and the README table a newcomer reads it from. */
describe('demo data', () => {
  let t: TestIdp;
  beforeAll(async () => {
    t = await startTestIdp();
    await seedDemoAccounts(t.idp.identity);
  });
  afterAll(() => t?.close());

  it('lets every demo account sign in with the demo password, with its functions and roles', async () => {
    for (const demo of [...DEMO_ACCOUNTS, { ...DEMO_OPERATOR.account, functions: [] as string[], delegatedAdministrator: false }]) {
      const outcome = await t.idp.identity.passwordSignIn.verifyPassword(demo.userId, DEMO_PASSWORD);
      expect(outcome.outcome, demo.userId).toBe('ok');
      if (outcome.outcome !== 'ok') continue;
      const memberships = (await t.idp.identity.accounts.findAccount(outcome.account.id))?.memberships ?? [];
      const [membership] = memberships;
      expect(memberships).toHaveLength(1);
      expect([...membership!.functions].sort()).toEqual([...demo.functions].sort());
      expect(membership!.delegatedAdministrator).toBe(demo.delegatedAdministrator);
      expect(outcome.account.operator).toBe(demo.userId === DEMO_OPERATOR.account.userId);
    }
    const organization = await t.idp.identity.organizations.getOrganization(DEMO_ORGANIZATION.participantIds[0]!);
    expect(organization.name).toBe(DEMO_ORGANIZATION.name);
    expect(organization.participantIds).toEqual(DEMO_ORGANIZATION.participantIds);
  });

  it('is what the README lists: user IDs, emails, mobile numbers and the password', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`**\`${DEMO_PASSWORD}\`**`);
    for (const demo of [...DEMO_ACCOUNTS, DEMO_OPERATOR.account]) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${demo.userId}\` |`));
      expect(row, demo.userId).toBeDefined();
      expect(row).toContain(demo.email);
      expect(row).toContain(demo.phone);
    }
    for (const id of DEMO_ORGANIZATION.participantIds) expect(readme).toContain(`\`${id}\``);
  });
});
