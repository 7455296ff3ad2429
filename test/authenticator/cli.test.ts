import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../identity/index.js';
import { createClientStore, createIdentityStores, createSigningKeyStore } from '../../storage/index.js';
import { oathtool } from '../support/authenticator.js';
import { startCliHarness, type CliHarness } from '../support/cli.js';

// Each test spawns several CLI processes (tsx, then the embedded database's worker): 6-20 s apiece when the
// machine is loaded, so 60 s was not enough for some (as in test/oauth/client-authentication-cli.test.ts).
describe('authenticator commands of the operator CLI', { timeout: 180_000 }, () => {
  let cli: CliHarness;
  // Opening the embedded database takes over a minute when the machine is loaded (load ~20): as long as a test.
  beforeAll(async () => {
    cli = await startCliHarness();
  }, 180_000);
  afterAll(() => cli?.dispose());

  const iam = (args: string[]) => cli.iam(args);
  const inProcess = <T>(run: (identity: Identity) => Promise<T>) => cli.inProcess(run);
  /** A passkey stored as registration stores one (the ceremony is test/passkeys' subject). */
  const addPasskey = (identity: Identity, accountId: string, name: string, createdAt: Date) =>
    identity.stores.passkeys.add({
      id: randomUUID(), accountId, credentialId: randomBytes(16).toString('base64url'), publicKey: new Uint8Array(randomBytes(77)), counter: 0, transports: ['usb'],
      aaguid: null, deviceType: 'singleDevice', backedUp: false, name, createdAt, lastUsedAt: null, removedAt: null,
    });

  let accountId: string;

  it('creates, lists with progress and closes a campaign; refuses bad dates and a second close', async () => {
    accountId = await inProcess(async (identity) => {
      await identity.organizations.createOrganization({ name: 'Cli Campaign Org', participantIds: ['B07777'] }, 'test');
      const { account } = await identity.accounts.createAccount({ organization: 'B07777', userId: 'cli.app', name: 'Cli App', email: 'cli.app@example.com', phone: '+852 5555 0000', password: 'correct horse battery staple' }, 'test');
      const setup = await identity.authenticators.beginRegistration(account, 'account_page');
      await identity.authenticators.completeRegistration(account, oathtool(setup.secret, new Date()));
      await addPasskey(identity, account.id, 'Laptop', new Date(Date.now() - 2000));
      await addPasskey(identity, account.id, 'YubiKey 5', new Date(Date.now() - 1000));
      return account.id;
    });
    const bad = await iam(['campaign', 'create', '--registered-before', 'soon', '--effective-from', '2024-12-15T00:00:00+08:00', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: 'validation_failed', fieldErrors: { registeredBefore: [expect.any(String)] } });

    const cutoff = new Date(Date.now() + 3600_000).toISOString();
    const created = await iam(['campaign', 'create', '--registered-before', cutoff, '--effective-from', new Date().toISOString(), '--json']);
    expect(created.code).toBe(0);
    const campaign = JSON.parse(created.stdout);
    expect(campaign).toMatchObject({ skipUntil: null, createdBy: 'operator-cli', progress: { affected: 1, reRegistered: 0, skipped: 0 } });
    const listed = await iam(['campaign', 'list']);
    expect(listed.stdout).toContain(`${campaign.id}`);
    expect(listed.stdout).toContain('affected 1  re-registered 0  skipped 0');

    expect((await iam(['campaign', 'close', '--id', campaign.id])).code).toBe(0);
    const again = await iam(['campaign', 'close', '--id', campaign.id, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error).toBe('conflict');
  });

  // Apart from the campaign test: each test spawns several CLI processes, and 180 s is their budget under load.
  it("resets the account's second factor: its authenticator app and its passkeys, as JSON", async () => {
    const reset = await iam(['account', 'reset-factor', '--user-id', 'cli.app', '--json']);
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ userId: 'cli.app', removed: true, passkeysRemoved: 2, passkeyNames: ['Laptop', 'YubiKey 5'] });
    const after = await inProcess(async (identity) => ({
      hasApp: await identity.authenticatorApp.hasApp(accountId),
      passkeys: await identity.passkeys.list(accountId),
      events: await identity.stores.audit.list({ accountId, type: 'authenticator.reset' }),
    }));
    expect(after.hasApp).toBe(false);
    expect(after.passkeys).toEqual([]);
    expect(after.events[0]).toMatchObject({ actor: 'operator-cli', data: { removed: true, passkeysRemoved: 2, passkeyNames: ['Laptop', 'YubiKey 5'], notified: true } });
    expect((await iam(['account', 'reset-factor', '--user-id', 'nobody.here'])).code).toBe(1);
  });

  it('resets a second factor that is only a passkey, and says what it removed or that there was nothing', async () => {
    const onlyPasskey = await inProcess(async (identity) => {
      const { account } = await identity.accounts.createAccount({ organization: 'B07777', userId: 'cli.passkey', name: 'Cli Passkey', email: 'cli.passkey@example.com', phone: '+852 5555 0000', password: 'correct horse battery staple' }, 'test');
      await addPasskey(identity, account.id, 'Phone', new Date());
      return account.id;
    });
    const text = await iam(['account', 'reset-factor', '--user-id', 'cli.passkey']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('removed 1 passkey (Phone) of cli.passkey; they now sign in with emailed codes and were told by email');
    expect(await inProcess((identity) => identity.passkeys.list(onlyPasskey))).toEqual([]);
    expect((await iam(['account', 'reset-factor', '--user-id', 'cli.passkey'])).stdout).toContain('cli.passkey had no authenticator app and no passkey');
  });

  it('re-seals authenticator secrets, client secrets and signing keys under a new key while the previous key still opens them', async () => {
    const newKey = Buffer.alloc(32, 7).toString('base64');
    const { DEVELOPMENT_ENCRYPTION_KEY } = await import('../../lib/index.js');
    await inProcess(async (identity) => {
      const { account } = await identity.accounts.createAccount({ organization: 'B07777', userId: 'cli.reseal', name: 'Cli Reseal', email: 'cli.reseal@example.com', phone: '+852 5555 0000', password: 'correct horse battery staple' }, 'test');
      const setup = await identity.authenticators.beginRegistration(account, 'account_page');
      await identity.authenticators.completeRegistration(account, oathtool(setup.secret, new Date()));
    });
    const oldKey = Buffer.from(DEVELOPMENT_ENCRYPTION_KEY, 'base64');
    const clientSecret = await cli.withDatabase(async (database) => {
      await createSigningKeyStore(database, oldKey).ensureKeys(new Date());
      return (await createClientStore(database, oldKey).create({ clientId: 'reseal-client', redirectUris: ['https://portal.example.com/cb'], postLogoutRedirectUris: [], firstParty: true })).clientSecret!;
    });
    const resealed = await cli.iam(['secrets', 'reseal', '--json'], { env: { ENCRYPTION_KEY: newKey, PREVIOUS_ENCRYPTION_KEYS: DEVELOPMENT_ENCRYPTION_KEY } });
    expect(resealed.code).toBe(0);
    expect(JSON.parse(resealed.stdout)).toMatchObject({ authenticatorSecrets: 1, clientSecrets: 1, signingKeys: 1 });
    await cli.withDatabase(async (database) => {
      const newKeyOnly = Buffer.from(newKey, 'base64');
      const withNewKeyOnly = createIdentityStores(database, { current: newKeyOnly });
      const account = await withNewKeyOnly.accounts.findByLogin('cli.reseal');
      expect((await withNewKeyOnly.authenticators.findConfirmed(account!.id))?.secret).toMatch(/^[A-Z2-7]+$/);
      expect((await createClientStore(database, newKeyOnly).find('reseal-client'))?.clientSecret).toBe(clientSecret);
      expect(await createSigningKeyStore(database, newKeyOnly).listJwks(new Date())).toHaveLength(1);
    });
  });
});
