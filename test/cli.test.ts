import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../identity/index.js';
import { startCliHarness, type CliHarness } from './support/cli.js';

// Each test spawns several CLI processes (tsx, then the embedded database's worker): 6-20 s apiece when the
// machine is loaded, so 60 s was not enough for some (as in test/oauth/client-authentication-cli.test.ts).
describe('the operator CLI (npm run iam)', { timeout: 180_000 }, () => {
  let cli: CliHarness;

  beforeAll(async () => {
    cli = await startCliHarness();
  });
  afterAll(() => cli?.dispose());

  const iam = (args: string[], stdin = '', env?: Record<string, string>) => cli.iam(args, { stdin, env });
  const inProcess = (run: (identity: Identity) => Promise<void>) => cli.inProcess(run);

  it('bootstraps a deployment: organization, delegated administrator with a password from stdin, client, key rotation', async () => {
    const org = await iam(['organization', 'create', '--name', 'Example Brokers Ltd', '--participant-id', 'B05678', '--participant-id', 'CEXB', '--json']);
    expect(org.code).toBe(0);
    expect(JSON.parse(org.stdout)).toMatchObject({ name: 'Example Brokers Ltd', participantIds: ['B05678', 'CEXB'] });

    const account = await iam(
      ['account', 'create', '--organization', 'CEXB', '--user-id', 'jdoe', '--name', 'Jane Doe', '--email', 'Jane.Doe@example.com', '--phone', '+852 5555 1234', '--function', 'EU_UserMaintenance', '--function', 'EU_ECPAdmin', '--delegated-administrator', '--json'],
      'a long enough passphrase\n',
    );
    expect(account.code).toBe(0);
    const created = JSON.parse(account.stdout);
    expect(created).toMatchObject({ userId: 'jdoe', email: 'jane.doe@example.com' });
    expect(created.memberships[0]).toMatchObject({ functions: ['EU_UserMaintenance', 'EU_ECPAdmin'], delegatedAdministrator: true });

    const client = await iam(['client', 'create', '--client-id', 'my-portal', '--redirect-uri', 'https://portal.example.com/auth/callback']);
    expect(client.code).toBe(0);
    expect(client.stdout).toMatch(/client_secret: [A-Za-z0-9_-]{43}/);

    const rotated = await iam(['keys', 'rotate', '--json']);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout).kid).toEqual(expect.any(String));
  });

  it('records the client registration and the key rotation in the audit log', async () => {
    await inProcess(async (identity) => {
      const [client] = await identity.stores.audit.list({ type: 'client.created' });
      expect(client).toMatchObject({ actor: 'operator-cli', data: { clientId: 'my-portal' } });
      expect(await identity.stores.audit.list({ type: 'signing_key.rotated' })).toHaveLength(1);
    });
  });

  it('explains refusals and exits non-zero: duplicate email, unknown organization, unknown function, bad redirect URI', async () => {
    const duplicate = await iam(['account', 'create', '--organization', 'B05678', '--user-id', 'jdoe2', '--email', 'JANE.DOE@example.com', '--phone', '+852 5555 1234'], 'another long passphrase\n');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/email.*already registered/i);

    const unknownOrg = await iam(['account', 'create', '--organization', 'NOPE', '--user-id', 'x.y', '--email', 'x@example.com', '--phone', '+852 5555 1234'], 'another long passphrase\n');
    expect(unknownOrg.code).toBe(1);
    expect(unknownOrg.stderr).toContain('No organization matches "NOPE"');

    const unknownFunction = await iam(['account', 'create', '--organization', 'B05678', '--user-id', 'x.z', '--email', 'z@example.com', '--phone', '+852 5555 1234', '--function', 'EU_Bogus', '--json'], 'another long passphrase\n');
    expect(unknownFunction.code).toBe(1);
    expect(JSON.parse(unknownFunction.stdout)).toMatchObject({ error: 'validation_failed', fieldErrors: { functions: [expect.stringContaining('Unknown function "EU_Bogus"')] } });

    const badUri = await iam(['client', 'create', '--client-id', 'bad', '--redirect-uri', 'javascript:alert(1)']);
    expect(badUri.code).toBe(1);
    expect(badUri.stderr).toContain('must use https');
  });

  it('refuses the 21st account of an organization with the limit and the count', async () => {
    // Seed 20 accounts in-process (one CLI process per account would spend ~1.5 s each opening the database).
    await inProcess(async (identity) => {
      const org = await identity.organizations.createOrganization({ name: 'Full House Ltd', participantIds: ['FULL1'] }, 'test');
      for (let i = 0; i < 20; i++) {
        await identity.accounts.createAccount({ organization: org.id, userId: `full.${i}`, name: `Full ${i}`, email: `full${i}@example.com`, phone: '+852 5555 0000' }, 'test');
      }
    });
    const over = await iam(['account', 'create', '--organization', 'FULL1', '--user-id', 'full.20', '--email', 'full20@example.com', '--phone', '+852 5555 0000'], 'a long enough passphrase\n');
    expect(over.code).toBe(1);
    expect(over.stderr).toContain('The organization has 20 of 20 accounts; the limit is 20.');
  });

  it('keys rotate says when the new key starts signing (SIGNING_KEY_PUBLISH_AHEAD_SECONDS later); --now signs at once and warns about cached JWKS', async () => {
    const before = Date.now();
    const ahead = await iam(['keys', 'rotate'], '');
    expect(ahead.code).toBe(0);
    const signFrom = /sign with it from (\S+) \(in 3600 s, SIGNING_KEY_PUBLISH_AHEAD_SECONDS\)/.exec(ahead.stdout)?.[1];
    expect(signFrom, ahead.stdout).toBeDefined();
    expect(Date.parse(signFrom!)).toBeGreaterThanOrEqual(before + 3600_000 - 1000);

    const ahead2 = await iam(['keys', 'rotate', '--json'], '', { SIGNING_KEY_PUBLISH_AHEAD_SECONDS: '600' });
    expect(Date.parse(JSON.parse(ahead2.stdout).signFrom) - Date.now()).toBeGreaterThan(500_000);

    const now = await iam(['keys', 'rotate', '--now']);
    expect(now.code).toBe(0);
    expect(now.stdout).toContain('sign with it as soon as they do');
    expect(now.stdout).toContain('Relying parties caching the old JWKS may fail to verify its tokens for up to 300 s');
  });

  it('answers a usage error with help and exit code 2', async () => {
    const usage = await iam(['account', 'create']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--organization <org>' not specified");
  });
});
