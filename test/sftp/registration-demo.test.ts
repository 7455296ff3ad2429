/**
 * The demo data's SFTP access (issue 14 §3): on first seeding erin.ng gets a key pair in the data folder, its
 * public key registered through maker-checker (da.alice requests, da.bob confirms) and loopback addresses allowed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshFingerprint } from '../../identity/index.js';
import { DEMO_SFTP_KEY_FILE, seedDemoAccounts } from '../../server/demo-data.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';

const SSH_KEYGEN = ['/usr/bin/ssh-keygen', '/bin/ssh-keygen'].find((p) => existsSync(p));

describe('demo SFTP access of erin.ng', () => {
  let t: TestIdp;
  let dataDir: string;
  beforeAll(async () => {
    t = await startTestIdp();
    dataDir = mkdtempSync(path.join(tmpdir(), 'demo-sftp-'));
    await seedDemoAccounts(t.idp.identity, { dataDir });
  }, 60_000);
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await t?.close();
  });

  it('writes the private key (0600) and registers its public key and 127.0.0.1 and ::1 through maker-checker', async () => {
    const file = path.join(dataDir, DEMO_SFTP_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const privateKey = ssh2.utils.parseKey(readFileSync(file));
    if (privateKey instanceof Error) throw privateKey;
    expect(privateKey.isPrivateKey()).toBe(true);
    const erin = await t.idp.identity.accounts.getAccountByLogin('erin.ng');
    const [key, ...others] = await t.idp.identity.sftp.listActiveKeys(erin.account.id);
    expect(others).toEqual([]);
    expect(key?.fingerprint).toBe(sshFingerprint(privateKey.getPublicSSH()));
    expect(key?.publicKey).toBe(readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' '));
    if (SSH_KEYGEN) expect(execFileSync(SSH_KEYGEN, ['-y', '-f', file], { encoding: 'utf8' }).split(' ').slice(0, 2).join(' ')).toBe(key?.publicKey);
    expect((await t.idp.identity.sftp.listSourceRanges(erin.account.id)).map((r) => r.cidr)).toEqual(['127.0.0.1/32', '::1/128']);
    const alice = await t.idp.identity.accounts.getAccountByLogin('da.alice');
    const bob = await t.idp.identity.accounts.getAccountByLogin('da.bob');
    const { items } = await t.idp.identity.changeRequests.list({ accountId: alice.account.id }, { organizationId: erin.memberships[0]!.organizationId, view: 'all' });
    expect(items.map((r) => [r.type, r.status, r.makerId, r.checkerId]).sort()).toEqual([
      ['add_sftp_source_range', 'completed', alice.account.id, bob.account.id],
      ['add_sftp_source_range', 'completed', alice.account.id, bob.account.id],
      ['register_sftp_key', 'completed', alice.account.id, bob.account.id],
    ]);
  });
});
