/**
 * A real SFTP test bed: a connect-iam IdP (real database, real oidc-provider), the ECP SFTP gateway of
 * examples/ecp-sftp/ registered as a service client and authenticating with its client secret, a temporary
 * storage folder, and helpers that register SSH keys and source ranges and connect with ssh2's client.
 * Keys and ranges are written straight into `sftp_keys` / `sftp_source_ranges` (as a confirmed change request
 * leaves them); the maker-checker path that registers them has its own tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type SFTPWrapper } from 'ssh2';
import { ECP_SFTP_RESOURCE, createAuthorizationClient } from '../../examples/ecp-sftp/authorization-client.js';
import { sshFingerprint } from '../../examples/ecp-sftp/fingerprint.js';
import { startSftpGateway, type SftpGateway } from '../../examples/ecp-sftp/gateway.js';
import { generateKeyPair } from '../../examples/ecp-sftp/host-key.js';
import { createLogger, newId } from '../../lib/index.js';
import { sftpKeys, sftpSourceRanges } from '../../storage/schema.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';

/** An SSH key pair as ssh2 generates it, with its fingerprint. */
export interface TestKeyPair {
  privateKey: string;
  publicKey: string;
  fingerprint: string;
}

/** Generates an ed25519 key pair (one ssh2 reads back, see {@link generateKeyPair}). */
export function newKeyPair(): TestKeyPair {
  const keys = generateKeyPair('ed25519');
  const parsed = ssh2.utils.parseKey(keys.public);
  if (parsed instanceof Error) throw parsed;
  return { privateKey: keys.private, publicKey: keys.public, fingerprint: sshFingerprint(parsed.getPublicSSH()) };
}

/** The running test bed. */
export interface SftpTestBed {
  t: TestIdp;
  gateway: SftpGateway;
  gatewayClientId: string;
  gatewaySecret: string;
  storageDir: string;
  organizationId: string;
  /** Creates an account in the test organization with an ed25519 key and the given source ranges (default 127.0.0.1/32). */
  sftpAccount(userId: string, options?: { functions?: string[]; ranges?: string[]; keyExpiresAt?: Date }): Promise<{ id: string; userId: string; key: TestKeyPair; keyId: string }>;
  /** Registers `key` for the account directly (as a confirmed request would). */
  addKey(accountId: string, key: TestKeyPair, expiresAt?: Date | null): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the test bed.
 * @param env - extra IdP settings, e.g. `{ SFTP_DECISION_TTL_SECONDS: '2' }`.
 */
export async function startSftpTestBed(env: Record<string, string> = {}): Promise<SftpTestBed> {
  const t = await startTestIdp(env, process.env.SFTP_TEST_LOG ? { logger: createLogger('warn') } : {});
  const organizationId = await t.organization();
  const operations = await t.newOrganization();
  const gatewayClientId = 'test-sftp-gateway';
  const registered = await t.idp.clients.create({ clientId: gatewayClientId, clientName: 'ECP SFTP gateway', redirectUris: [], postLogoutRedirectUris: [], firstParty: false, service: { organizationId: operations, functions: ['EU_ECPSFTP'] }, servedResources: [ECP_SFTP_RESOURCE] });
  const storageDir = await mkdtemp(path.join(os.tmpdir(), 'ecp-sftp-'));
  const authorization = await createAuthorizationClient({ issuer: t.issuer, clientId: gatewayClientId, credentials: { clientSecret: registered.clientSecret }, allowInsecureRequests: true });
  const gateway = await startSftpGateway({ authorization, hostKeyFile: path.join(storageDir, 'host_ed25519'), storageDir: path.join(storageDir, 'storage'), host: '127.0.0.1', port: 0, logger: process.env.SFTP_TEST_LOG ? { info: (d, m) => console.log(m, d), warn: (d, m) => console.log(m, d) } : undefined });
  const { db } = t.idp.database;

  const bed: SftpTestBed = {
    t,
    gateway,
    gatewayClientId,
    gatewaySecret: registered.clientSecret,
    storageDir: path.join(storageDir, 'storage'),
    organizationId,
    async addKey(accountId, key, expiresAt = null) {
      const parsed = ssh2.utils.parseKey(key.publicKey);
      if (parsed instanceof Error) throw parsed;
      const id = newId();
      await db.insert(sftpKeys).values({ id, accountId, algorithm: parsed.type, bits: 256, fingerprint: key.fingerprint, publicKey: `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`, comment: 'test key', addedAt: new Date(), expiresAt });
      return id;
    },
    async sftpAccount(userId, options = {}) {
      const account = await t.createAccount({ userId, functions: options.functions ?? ['EU_ECPSFTP'] });
      const key = newKeyPair();
      const keyId = await bed.addKey(account.id, key, options.keyExpiresAt ?? null);
      for (const cidr of options.ranges ?? ['127.0.0.1/32']) {
        await db.insert(sftpSourceRanges).values({ id: newId(), accountId: account.id, cidr, comment: 'test range', addedAt: new Date() });
      }
      return { id: account.id, userId, key, keyId };
    },
    async close() {
      await gateway.close();
      await t.close();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
  return bed;
}

/** A connected ssh2 client with its SFTP channel. */
export interface SftpConnection {
  client: ssh2.Client;
  sftp: SFTPWrapper;
  end(): void;
}

/**
 * Connects with ssh2's client (public-key authentication only) and opens the sftp subsystem.
 * @param localAddress - the source address to bind (e.g. `127.0.0.2`).
 * @throws the client's error, e.g. `All configured authentication methods failed`.
 */
export function connectSftp(port: number, username: string, privateKey: string, localAddress = '127.0.0.1'): Promise<SftpConnection> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client
      .on('ready', () =>
        client.sftp((error, sftp) => {
          if (error) return reject(error);
          resolve({ client, sftp, end: () => client.end() });
        }),
      )
      .on('error', reject)
      .connect({ host: '127.0.0.1', port, username, privateKey, localAddress, readyTimeout: 20_000, hostVerifier: () => true });
  });
}

/** Promisified SFTP calls used by the tests. */
export const sftpCall = {
  readdir: (sftp: SFTPWrapper, dir: string) => new Promise<string[]>((resolve, reject) => sftp.readdir(dir, (e, list) => (e ? reject(e) : resolve(list.map((f) => f.filename).sort())))),
  write: (sftp: SFTPWrapper, file: string, data: Buffer | string) => new Promise<void>((resolve, reject) => sftp.writeFile(file, data, (e) => (e ? reject(e) : resolve()))),
  read: (sftp: SFTPWrapper, file: string) => new Promise<Buffer>((resolve, reject) => sftp.readFile(file, (e, data) => (e ? reject(e) : resolve(data)))),
  realpath: (sftp: SFTPWrapper, p: string) => new Promise<string>((resolve, reject) => sftp.realpath(p, (e, out) => (e ? reject(e) : resolve(out)))),
  remove: (sftp: SFTPWrapper, p: string) => new Promise<void>((resolve, reject) => sftp.unlink(p, (e) => (e ? reject(e) : resolve()))),
};

/** The SFTP status code of a failed call (ssh2 sets `code`): 2 no such file, 3 permission denied. */
export async function sftpError(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: number }).code;
  }
  throw new Error('the SFTP call succeeded');
}
