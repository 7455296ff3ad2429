/**
 * Demo data for a first start on an empty embedded database: one organization with two participant IDs,
 * two delegated administrators and business users showing every ECP case, an operator, and the two demo
 * portals as OIDC clients. The README lists these accounts; never used in production.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ChangeRequestType, Identity } from '../identity/index.js';

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

/**
 * The demo SFTP key pair of erin.ng (issue 14), relative to the data folder (default `var/`): the OpenSSH private
 * key (mode 0600) and beside it `<file>.pub`. Written on first start; its public key is registered for erin.ng,
 * with the source addresses {@link DEMO_SFTP_SOURCE_RANGES}.
 */
export const DEMO_SFTP_KEY_FILE = 'sftp/erin.ng_ed25519';

/** The source addresses erin.ng may connect to the demo SFTP gateway from. */
export const DEMO_SFTP_SOURCE_RANGES = ['127.0.0.1', '::1'];

/**
 * Writes erin.ng's demo key pair under `dataDir` and registers it, with loopback source addresses, through
 * maker-checker as a DA would: da.alice (who holds EU_ECPAdmin) requests, da.bob confirms.
 */
async function seedDemoSftpAccess(identity: Identity, organizationId: string, dataDir: string): Promise<void> {
  // ssh2 writes a malformed ed25519 public key when its first byte is 0 (1 in 256): draw again.
  let pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'erin.ng@connect-iam-demo' });
  while (ssh2.utils.parseKey(pair.public) instanceof Error) pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'erin.ng@connect-iam-demo' });
  const file = path.join(dataDir, DEMO_SFTP_KEY_FILE);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, pair.private, { mode: 0o600 });
  await writeFile(`${file}.pub`, `${pair.public}\n`);
  const login = async (userId: string) => ({ accountId: (await identity.accounts.getAccountByLogin(userId)).account.id });
  const [maker, checker, erin] = [await login('da.alice'), await login('da.bob'), await login('erin.ng')];
  const confirmed = async (type: ChangeRequestType, payload: Record<string, unknown>) => {
    const draft = await identity.changeRequests.createDraft(maker, { organizationId, type, payload: { accountId: erin.accountId, ...payload } });
    await identity.changeRequests.submit(maker, draft.id, { message: 'Demo data' });
    const claimed = await identity.changeRequests.claim(checker, draft.id);
    await identity.changeRequests.confirm(checker, draft.id, claimed.version);
  };
  await confirmed('register_sftp_key', { publicKey: pair.public, name: 'Demo key (var/sftp)' });
  for (const cidr of DEMO_SFTP_SOURCE_RANGES) await confirmed('add_sftp_source_range', { cidr, name: 'This machine' });
}

/**
 * Seeds the demo organization and accounts, and the demo operator. Call only on an empty database.
 * @param options - `dataDir`: where erin.ng's demo SFTP key pair is written ({@link DEMO_SFTP_KEY_FILE}); without it
 *   no SFTP key or address is registered.
 */
export async function seedDemoAccounts(identity: Identity, options: { dataDir?: string } = {}): Promise<void> {
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
  if (options.dataDir) await seedDemoSftpAccess(identity, organization.id, options.dataDir);
}
