/**
 * The ECP SFTP gateway against a real connect-iam (issue 14 §2, §3), with ssh2's client: who connects is decided
 * by the SFTP authorization API; a session sees only the folders its functions open, downloads from download
 * folders, uploads into submission folders and gets a SHA-256 receipt, and cannot leave its virtual root.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sftpKeys } from '../../storage/schema.js';
import { connectSftp, newKeyPair, sftpCall, sftpError, startSftpTestBed, type SftpTestBed } from './gateway-support.js';

let bed: SftpTestBed;
let erin: Awaited<ReturnType<SftpTestBed['sftpAccount']>>;

const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const auditOf = (type: string, accountId: string) => bed.t.idp.identity.stores.audit.list({ type, accountId });

beforeAll(async () => {
  bed = await startSftpTestBed();
  erin = await bed.sftpAccount('sftp.erin');
});
afterAll(async () => {
  await bed?.close();
});

describe('the ECP SFTP gateway', () => {
  it('lets the right key from an allowed address with EU_ECPSFTP in, showing only its folders, and audits the decision', async () => {
    const { sftp, end } = await connectSftp(bed.gateway.port, erin.userId, erin.key.privateKey);
    try {
      expect(await sftpCall.readdir(sftp, '/')).toEqual(['Clearing Submission', 'Daily Reports', 'Submission Acknowledgements']);
      expect(await sftpCall.realpath(sftp, '.')).toBe('/');
    } finally {
      end();
    }
    const [allowed] = await auditOf('sftp.access_allowed', erin.id);
    expect(allowed).toMatchObject({ organizationId: bed.organizationId, ip: '127.0.0.1', actor: `client:${bed.gatewayClientId}`, data: { userId: 'sftp.erin', fingerprint: erin.key.fingerprint, folders: ['Clearing Submission', 'Submission Acknowledgements', 'Daily Reports'], maxAgeSeconds: 60 } });
  });

  it('stores an upload with a SHA-256 receipt beside it that matches the file, readable by the client and in the audit log', async () => {
    const content = `SD1,09999,20260105,${'x'.repeat(100_000)}\n`;
    const { sftp, end } = await connectSftp(bed.gateway.port, erin.userId, erin.key.privateKey);
    try {
      await sftpCall.write(sftp, '/Clearing Submission/SD1_09999_20260105.csv', content);
      const receipt = (await sftpCall.read(sftp, '/Clearing Submission/SD1_09999_20260105.csv.sha256')).toString();
      expect(receipt).toBe(`${sha256(content)}  SD1_09999_20260105.csv\n`);
      expect(await sftpCall.readdir(sftp, '/Clearing Submission')).toEqual(['SD1_09999_20260105.csv', 'SD1_09999_20260105.csv.sha256']);
    } finally {
      end();
    }
    const stored = path.join(bed.storageDir, bed.organizationId, 'Clearing Submission', 'SD1_09999_20260105.csv');
    expect(sha256(await readFile(stored))).toBe(sha256(content));
    const [received] = await auditOf('sftp.file_received', erin.id);
    expect(received).toMatchObject({ organizationId: bed.organizationId, ip: '127.0.0.1', data: { folder: 'Clearing Submission', fileName: 'SD1_09999_20260105.csv', bytes: Buffer.byteLength(content), sha256: sha256(content), gateway: bed.gatewayClientId } });
  });

  it('overwrites an earlier upload of the same name, with a new receipt (seed FAQ 25)', async () => {
    const { sftp, end } = await connectSftp(bed.gateway.port, erin.userId, erin.key.privateKey);
    try {
      await sftpCall.write(sftp, '/Clearing Submission/SD1_wrong.csv', 'the wrong file\n');
      await sftpCall.write(sftp, '/Clearing Submission/SD1_wrong.csv', 'the right file\n');
      expect((await sftpCall.read(sftp, '/Clearing Submission/SD1_wrong.csv.sha256')).toString()).toBe(`${sha256('the right file\n')}  SD1_wrong.csv\n`);
    } finally {
      end();
    }
    expect(await readFile(path.join(bed.storageDir, bed.organizationId, 'Clearing Submission', 'SD1_wrong.csv'), 'utf8')).toBe('the right file\n');
    const receipts = (await auditOf('sftp.file_received', erin.id)).filter((e) => e.data.fileName === 'SD1_wrong.csv');
    expect(receipts.map((e) => e.data.sha256).sort()).toEqual([sha256('the wrong file\n'), sha256('the right file\n')].sort());
  });

  it('downloads from a download folder, refuses writing into it, and refuses reading a submitted file', async () => {
    const reports = path.join(bed.storageDir, bed.organizationId, 'Daily Reports');
    await mkdir(reports, { recursive: true });
    await writeFile(path.join(reports, 'DR_B09999_20260105.csv'), 'report\n');
    const { sftp, end } = await connectSftp(bed.gateway.port, erin.userId, erin.key.privateKey);
    try {
      expect((await sftpCall.read(sftp, '/Daily Reports/DR_B09999_20260105.csv')).toString()).toBe('report\n');
      expect(await sftpError(sftpCall.write(sftp, '/Daily Reports/DR_B09999_20260105.csv', 'forged'))).toBe(PERMISSION_DENIED);
      expect(await sftpError(sftpCall.write(sftp, '/Daily Reports/new.csv', 'forged'))).toBe(PERMISSION_DENIED);
      expect(await sftpError(sftpCall.read(sftp, '/Clearing Submission/SD1_09999_20260105.csv'))).toBe(PERMISSION_DENIED);
      expect(await sftpError(sftpCall.write(sftp, '/Clearing Submission/forged.csv.sha256', 'f'.repeat(64)))).toBe(PERMISSION_DENIED);
      expect(await sftpError(sftpCall.remove(sftp, '/Daily Reports/DR_B09999_20260105.csv'))).toBe(PERMISSION_DENIED);
    } finally {
      end();
    }
    expect(await readFile(path.join(reports, 'DR_B09999_20260105.csv'), 'utf8')).toBe('report\n');
    await expect(lstat(path.join(reports, 'new.csv'))).rejects.toThrow(/ENOENT/);
  });

  it('never leaves the virtual root: .., absolute paths, folders it does not hold and symbolic links', async () => {
    const reports = path.join(bed.storageDir, bed.organizationId, 'Daily Reports');
    await mkdir(reports, { recursive: true });
    await symlink('/etc/passwd', path.join(reports, 'passwd-link'));
    await mkdir(path.join(bed.storageDir, bed.organizationId, 'Monthly Statements'), { recursive: true });
    await writeFile(path.join(bed.storageDir, bed.organizationId, 'Monthly Statements', 'MS.csv'), 'not yours\n');
    const { sftp, end } = await connectSftp(bed.gateway.port, erin.userId, erin.key.privateKey);
    try {
      expect(await sftpCall.realpath(sftp, '../../..')).toBe('/');
      expect(await sftpError(sftpCall.read(sftp, '../../../../etc/passwd'))).toBe(NO_SUCH_FILE);
      expect(await sftpError(sftpCall.read(sftp, '/etc/passwd'))).toBe(NO_SUCH_FILE);
      expect(await sftpError(sftpCall.read(sftp, '/Daily Reports/../../etc/passwd'))).toBe(NO_SUCH_FILE);
      expect(await sftpCall.readdir(sftp, '/Daily Reports/../../..')).toEqual(['Clearing Submission', 'Daily Reports', 'Submission Acknowledgements']);
      expect(await sftpError(sftpCall.read(sftp, '/Monthly Statements/MS.csv'))).toBe(NO_SUCH_FILE);
      expect(await sftpError(sftpCall.read(sftp, `/${bed.organizationId}/Daily Reports/passwd-link`))).toBe(NO_SUCH_FILE);
      expect(await sftpError(sftpCall.read(sftp, '/Daily Reports/passwd-link'))).toBe(NO_SUCH_FILE);
      expect(await sftpCall.readdir(sftp, '/Daily Reports')).not.toContain('passwd-link');
      expect(await sftpError(sftpCall.write(sftp, '/Clearing Submission/../Daily Reports/x.csv', 'x'))).toBe(PERMISSION_DENIED);
    } finally {
      end();
    }
  });
});

describe('refused connections', () => {
  const refused = (userId: string, privateKey: string, localAddress?: string) => expect(connectSftp(bed.gateway.port, userId, privateKey, localAddress)).rejects.toThrow(/authentication methods failed/);
  const lastRefusal = async (accountId: string) => (await auditOf('sftp.access_refused', accountId))[0]?.data.reason;

  it('a key that is not registered for the account', async () => {
    await refused(erin.userId, newKeyPair().privateKey);
    expect(await lastRefusal(erin.id)).toBe('unknown_key');
  });

  it("another account's key", async () => {
    const other = await bed.sftpAccount('sftp.other');
    await refused(erin.userId, other.key.privateKey);
    expect(await lastRefusal(erin.id)).toBe('unknown_key');
  });

  it('an expired key', async () => {
    const frank = await bed.sftpAccount('sftp.frank', { keyExpiresAt: new Date(Date.now() - 1000) });
    await refused(frank.userId, frank.key.privateKey);
    expect(await lastRefusal(frank.id)).toBe('key_expired');
  });

  it('a source address outside the registered ranges (127.0.0.2)', async () => {
    await refused(erin.userId, erin.key.privateKey, '127.0.0.2');
    const [event] = await auditOf('sftp.access_refused', erin.id);
    expect(event).toMatchObject({ ip: '127.0.0.2', data: { reason: 'source_not_allowed' } });
  });

  it('an account without EU_ECPSFTP, even with a registered key', async () => {
    const grace = await bed.sftpAccount('sftp.grace', { functions: ['EU_ECPReportDownload'] });
    await refused(grace.userId, grace.key.privateKey);
    expect(await lastRefusal(grace.id)).toBe('function_missing');
  });

  it('a removed key', async () => {
    const henry = await bed.sftpAccount('sftp.henry');
    (await connectSftp(bed.gateway.port, henry.userId, henry.key.privateKey)).end();
    await bed.t.idp.database.db.update(sftpKeys).set({ removedAt: new Date() }).where(eq(sftpKeys.id, henry.keyId));
    await refused(henry.userId, henry.key.privateKey);
    expect(await lastRefusal(henry.id)).toBe('key_removed');
  });

  it('a suspended account at its next connection, within the decision TTL of the last answer', async () => {
    const ivy = await bed.sftpAccount('sftp.ivy');
    (await connectSftp(bed.gateway.port, ivy.userId, ivy.key.privateKey)).end(); // allowed, max-age 60 s
    await bed.t.idp.identity.stores.accounts.setStatus(ivy.id, 'suspended', new Date());
    await refused(ivy.userId, ivy.key.privateKey);
    expect(await lastRefusal(ivy.id)).toBe('account_suspended');
  });

  it('an unknown user ID, audited without an account', async () => {
    await refused('sftp.nobody', erin.key.privateKey);
    const events = await bed.t.idp.identity.stores.audit.list({ type: 'sftp.access_refused' });
    expect(events.find((e) => e.data.userId === 'sftp.nobody')).toMatchObject({ accountId: null, data: { reason: 'unknown_account' } });
  });
});
