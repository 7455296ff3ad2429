import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../identity/index.js';
import { startCliHarness, type CliHarness } from '../support/cli.js';

describe('the operator unlocks an account without a reset (npm run iam -- account unlock)', () => {
  let cli: CliHarness;
  beforeAll(async () => {
    cli = await startCliHarness();
  });
  afterAll(() => cli?.dispose());

  const iam = (args: string[], stdin = '') => cli.iam(args, { stdin });
  const inProcess = <T>(run: (identity: Identity) => Promise<T>) => cli.inProcess(run);

  it('clears the lock, records account.unlocked by operator-cli, and the right password works again', async () => {
    expect((await iam(['organization', 'create', '--name', 'Unlock Brokers Ltd', '--participant-id', 'B07777'])).code).toBe(0);
    expect((await iam(['account', 'create', '--organization', 'B07777', '--user-id', 'locked.person', '--email', 'locked.person@example.com', '--phone', '+852 5555 7777'], 'a long enough password\n')).code).toBe(0);
    await inProcess(async (identity) => {
      for (let i = 0; i < 5; i++) await identity.passwordSignIn.verifyPassword('locked.person', `wrong password ${i}`);
      expect((await identity.passwordSignIn.verifyPassword('locked.person', 'a long enough password')).outcome).toBe('locked');
    });
    const unlocked = await iam(['account', 'unlock', '--user-id', 'locked.person', '--json']);
    expect(unlocked.code).toBe(0);
    expect(JSON.parse(unlocked.stdout)).toMatchObject({ userId: 'locked.person', wasLocked: true });
    await inProcess(async (identity) => {
      const { account } = await identity.accounts.getAccountByLogin('locked.person');
      const [event] = await identity.stores.audit.list({ accountId: account.id, type: 'account.unlocked' });
      expect(event?.actor).toBe('operator-cli');
      expect((await identity.passwordSignIn.verifyPassword('locked.person', 'a long enough password')).outcome).toBe('ok');
    });
  });
});
