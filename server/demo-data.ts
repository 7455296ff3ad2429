/**
 * Demo data for a first start on an empty embedded database: one organization with two participant IDs,
 * two delegated administrators and business users showing every ECP case, an operator, and the two demo
 * portals as OIDC clients. The README lists these accounts; never used in production.
 */
import type { Identity } from '../identity/index.js';

/** The password of every demo account (meets the 12-character policy). */
export const DEMO_PASSWORD = 'connect-iam-demo-2026';

/** Demo accounts: user ID, name, functions, whether a delegated administrator, and what ECP shows them. */
export const DEMO_ACCOUNTS = [
  { userId: 'da.alice', name: 'Alice Wong', email: 'alice.wong@example.com', phone: '+852 5555 0101', delegatedAdministrator: true, functions: ['EU_UserMaintenance', 'EU_ECPAdmin'], ecp: 'Error 2000 (administration only)' },
  { userId: 'da.bob', name: 'Bob Chan', email: 'bob.chan@example.com', phone: '+852 5555 0102', delegatedAdministrator: true, functions: ['EU_UserMaintenance'], ecp: 'Error 2000 (no ECP function)' },
  { userId: 'carol.lee', name: 'Carol Lee', email: 'carol.lee@example.com', phone: '+852 5555 0103', delegatedAdministrator: false, functions: ['EU_ParticipantshipManagement', 'EU_SettlementDepository', 'EU_ECPClearingSubmission', 'EU_ECPReportDownload'], ecp: 'folders of both ECP web functions' },
  { userId: 'dave.ho', name: 'Dave Ho', email: 'dave.ho@example.com', phone: '+852 5555 0104', delegatedAdministrator: false, functions: ['EU_SettlementDepository', 'EU_ECPReportDownload'], ecp: 'report download folders only' },
  { userId: 'erin.ng', name: 'Erin Ng', email: 'erin.ng@example.com', phone: '+852 5555 0105', delegatedAdministrator: false, functions: ['EU_ECPSFTP'], ecp: 'SFTP only' },
] as const;

/** The demo organization. */
export const DEMO_ORGANIZATION = { name: 'Demo Securities Limited', participantIds: ['B01234', 'CDEMO'] };

/**
 * The demo operator (the exchange's support staff, design/domain.md): a member of the operator's own
 * organization, holding the operator role, so the console's operator screens can be tried.
 */
export const DEMO_OPERATOR = {
  organization: { name: 'Demo Exchange Operations', participantIds: ['OPS001'] },
  account: { userId: 'ops.olivia', name: 'Olivia Tam', email: 'olivia.tam@example.com', phone: '+852 5555 0100' },
};

/** Client ids of the demo portals. */
export const DEMO_CLIENT_IDS = { eservice: 'eservice-portal', ecp: 'ecp' } as const;

/** Seeds the demo organization and accounts, and the demo operator. Call only on an empty database. */
export async function seedDemoAccounts(identity: Identity): Promise<void> {
  const organization = await identity.organizations.createOrganization(DEMO_ORGANIZATION, 'demo-data');
  for (const a of DEMO_ACCOUNTS) {
    await identity.accounts.createAccount(
      { organization: organization.id, userId: a.userId, name: a.name, email: a.email, phone: a.phone, functions: [...a.functions], delegatedAdministrator: a.delegatedAdministrator, password: DEMO_PASSWORD },
      'demo-data',
    );
  }
  const operations = await identity.organizations.createOrganization(DEMO_OPERATOR.organization, 'demo-data');
  const { account } = await identity.accounts.createAccount({ organization: operations.id, ...DEMO_OPERATOR.account, functions: [], delegatedAdministrator: false, password: DEMO_PASSWORD }, 'demo-data');
  await identity.accounts.setOperator(account.id, true, 'demo-data');
}
