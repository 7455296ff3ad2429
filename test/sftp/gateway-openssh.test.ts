/**
 * The ECP SFTP gateway with Debian's OpenSSH `sftp` client (openssh-client), where it is installed: the README's
 * command line works — the gateway's host key is checked against `known_hosts`, the registered key gets in, lists
 * its folders, uploads and downloads the SHA-256 receipt; a key that is not registered and a source address
 * outside the ranges are refused, and `put` into a download folder fails.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair, startSftpTestBed, type SftpTestBed } from './gateway-support.js';

const SFTP = '/usr/bin/sftp';
let bed: SftpTestBed;
let dir: string;
let erin: Awaited<ReturnType<SftpTestBed['sftpAccount']>>;

/** Runs `sftp -b -` with `commands` on stdin; resolves with the exit code and output. */
function sftp(userId: string, keyFile: string, commands: string[], extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const args = ['-F', '/dev/null', '-b', '-', '-i', keyFile, '-P', String(bed.gateway.port), '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', ...(process.env.SFTP_TEST_LOG ? ['-vvv'] : []), ...extra, `${userId}@127.0.0.1`];
    const child = execFile(SFTP, args, { cwd: dir, timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    child.stdin!.end(`${commands.join('\n')}\n`);
  });
}

async function keyFile(name: string, privateKey: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, privateKey, { mode: 0o600 });
  return file;
}

describe.skipIf(!existsSync(SFTP))('the gateway with OpenSSH sftp', () => {
  beforeAll(async () => {
    bed = await startSftpTestBed();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ecp-sftp-openssh-'));
    await writeFile(path.join(dir, 'known_hosts'), `[127.0.0.1]:${bed.gateway.port} ${bed.gateway.hostPublicKey}\n`);
    erin = await bed.sftpAccount('sftp.erin');
  });
  afterAll(async () => {
    await bed?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('connects with the registered key, lists only its folders, uploads and gets the matching receipt', async () => {
    const content = 'SD1,09999,20260105,100\n';
    await writeFile(path.join(dir, 'SD1_09999_20260105.csv'), content);
    const run = await sftp(erin.userId, await keyFile('erin', erin.key.privateKey), ['ls -1', 'put SD1_09999_20260105.csv "Clearing Submission/"', 'get "Clearing Submission/SD1_09999_20260105.csv.sha256" receipt.sha256']);
    if (process.env.SFTP_TEST_LOG) console.log(run.stderr.slice(-3000));
    expect(run.stderr).not.toMatch(/denied|failed/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Clearing Submission\s+Daily Reports\s+Submission Acknowledgements/);
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(await readFile(path.join(dir, 'receipt.sha256'), 'utf8')).toBe(`${sha256}  SD1_09999_20260105.csv\n`);
    const [received] = await bed.t.idp.identity.stores.audit.list({ type: 'sftp.file_received', accountId: erin.id });
    expect(received?.data).toMatchObject({ fileName: 'SD1_09999_20260105.csv', sha256 });
  });

  it('cannot put a file into a download folder', async () => {
    await writeFile(path.join(dir, 'forged.csv'), 'forged\n');
    const run = await sftp(erin.userId, await keyFile('erin', erin.key.privateKey), ['put forged.csv "/Daily Reports/forged.csv"']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Permission denied/);
  });

  it('is refused with a key that is not registered, and from 127.0.0.2', async () => {
    const wrong = await sftp(erin.userId, await keyFile('wrong', newKeyPair().privateKey), ['ls /']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/Permission denied \(publickey\)/);
    const outside = await sftp(erin.userId, await keyFile('erin', erin.key.privateKey), ['ls /'], ['-o', 'BindAddress=127.0.0.2']);
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toMatch(/Permission denied \(publickey\)/);
    const [event] = await bed.t.idp.identity.stores.audit.list({ type: 'sftp.access_refused', accountId: erin.id });
    expect(event).toMatchObject({ ip: '127.0.0.2', data: { reason: 'source_not_allowed' } });
  });
});
