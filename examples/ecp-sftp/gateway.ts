/**
 * The ECP SFTP gateway (issue 14 §3): an SSH server (ssh2's `Server`) that offers only public-key authentication
 * and only the `sftp` subsystem, and lets connect-iam decide who connects.
 *
 * Authentication, per attempt (RFC 4252 §7):
 * - a key offered without a signature (the client asking whether it would be accepted) is answered "yes" without
 *   asking anyone, so nothing is learnt about which keys are registered and nothing is audited before the client
 *   proves it holds the key;
 * - a signed attempt is verified here with ssh2's own key parser (`parseKey(ctx.key.data).verify(ctx.blob,
 *   ctx.signature, ctx.hashAlgo)`); only then does the gateway ask connect-iam about the user ID, the key's
 *   `SHA256:` fingerprint and the connection's source address. Every such question is one audit event there.
 *
 * Decisions are asked afresh at every connection, so a suspension refuses the next connection at once. An open
 * session holds its answer at most the answer's `maxAgeSeconds` (connect-iam's `SFTP_DECISION_TTL_SECONDS`):
 * then the gateway asks again and ends the connection when refused (or when connect-iam cannot be reached).
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import ssh2, { type AuthContext, type Connection } from 'ssh2';
import type { AuthorizationClient, SftpAuthorization } from './authorization-client.js';
import { sshFingerprint } from './fingerprint.js';
import { ensureHostKey } from './host-key.js';
import { serveSftp } from './sftp-session.js';
import { prepareFolders, type MountedFolder } from './virtual-root.js';

/** Options of {@link startSftpGateway}. */
export interface SftpGatewayOptions {
  /** connect-iam's SFTP authorization API, as the gateway's service client. */
  authorization: AuthorizationClient;
  /** The host key file (OpenSSH private key), generated there on first start. */
  hostKeyFile: string;
  /** Folder holding one folder per organization (by id), each holding the ECP folders. Created when missing. */
  storageDir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest upload, in bytes (default 100 MiB). */
  maxUploadBytes?: number;
  /** Signed authentication attempts per connection before it is closed (default 6, as OpenSSH's MaxAuthTries). */
  maxAuthAttempts?: number;
  logger?: { info(details: object, message: string): void; warn(details: object, message: string): void };
  /** ssh2's protocol trace (its `debug` option), for troubleshooting a client. */
  debug?: (message: string) => void;
}

/** The running gateway. */
export interface SftpGateway {
  port: number;
  /** The host key's public half, OpenSSH one-line form (for `known_hosts`). */
  hostPublicKey: string;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** An authenticated connection: who, with which key, from where, and connect-iam's last answer. */
interface Admission {
  userId: string;
  fingerprint: string;
  sourceIp: string;
  answer: SftpAuthorization;
  /** The answer's folders, on disk. */
  folders: MountedFolder[];
}

/**
 * Starts the gateway.
 * @throws when the host key cannot be read or written, or the port is taken.
 */
export async function startSftpGateway(options: SftpGatewayOptions): Promise<SftpGateway> {
  const hostKey = await ensureHostKey(options.hostKeyFile);
  await mkdir(options.storageDir, { recursive: true });
  const parsedHostKey = ssh2.utils.parseKey(hostKey);
  if (parsedHostKey instanceof Error) throw parsedHostKey;
  const connections = new Set<Connection>();
  const server = new ssh2.Server({ hostKeys: [hostKey], debug: options.debug }, (connection, info) => {
    connections.add(connection);
    const sourceIp = unmapIpv4(info.ip);
    handleConnection(connection, sourceIp, options);
    connection.on('close', () => connections.delete(connection));
    connection.on('error', (error) => options.logger?.warn({ err: error, sourceIp }, 'SFTP connection error'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    hostPublicKey: `${parsedHostKey.type} ${parsedHostKey.getPublicSSH().toString('base64')}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        server.close(() => resolve());
      }),
  };
}

/** Authentication, then the SFTP subsystem, for one connection. */
function handleConnection(connection: Connection, sourceIp: string, options: SftpGatewayOptions): void {
  let admission: Admission | null = null;
  let signedAttempts = 0;
  let recheck: NodeJS.Timeout | undefined;

  connection.on('authentication', (ctx: AuthContext) => {
    if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
    if (!ctx.signature || !ctx.blob) return ctx.accept(); // "would this key do?": yes; the signed attempt decides
    if (++signedAttempts > (options.maxAuthAttempts ?? 6)) {
      ctx.reject();
      return void connection.end();
    }
    const key = ssh2.utils.parseKey(ctx.key.data);
    if (key instanceof Error || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
    const request = { userId: ctx.username, fingerprint: sshFingerprint(ctx.key.data), sourceIp };
    void (async () => {
      try {
        const answer = await options.authorization.authorize(request);
        options.logger?.info({ ...request, allowed: answer.allowed, reason: answer.reason }, 'SFTP authorization');
        if (!answer.allowed || !answer.organization) return ctx.reject(['publickey']);
        // Folders are ready before the session opens: clients send SFTP's INIT right after the subsystem request.
        const folders = await prepareFolders(options.storageDir, answer.organization.id, answer.folders);
        admission = { ...request, answer, folders };
        ctx.accept();
      } catch (error) {
        options.logger?.warn({ err: error, ...request }, 'SFTP authorization failed: refused');
        ctx.reject(['publickey']);
      }
    })();
  });

  connection.on('ready', () => {
    const admitted = admission!;
    scheduleRecheck();
    connection.on('session', (acceptSession) => {
      const session = acceptSession();
      session.on('sftp', (acceptSftp) => {
        const organizationId = admitted.answer.organization!.id;
        serveSftp(acceptSftp(), {
          folders: admitted.folders,
          maxUploadBytes: options.maxUploadBytes ?? 100 * 1024 * 1024,
          onUpload: (receipt) => options.authorization.recordReceipt({ userId: admitted.userId, fingerprint: admitted.fingerprint, sourceIp, organizationId, ...receipt }),
          onError: (error) => options.logger?.warn({ err: error, userId: admitted.userId }, 'SFTP file system error'),
        });
      });
      // No shell, no commands, no port forwarding: the sftp subsystem only.
      session.on('exec', (_accept, reject) => reject());
      session.on('shell', (_accept, reject) => reject());
      session.on('pty', (_accept, reject) => reject?.());
      session.on('subsystem', (_accept, reject) => reject());
    });
  });

  connection.on('close', () => clearTimeout(recheck));

  /** Asks connect-iam again when the answer's max age runs out; ends the connection when refused. */
  function scheduleRecheck(): void {
    const current = admission!;
    recheck = setTimeout(() => {
      options.authorization.authorize({ userId: current.userId, fingerprint: current.fingerprint, sourceIp: current.sourceIp }).then(
        (answer) => {
          const changed = answer.organization?.id !== current.answer.organization?.id || JSON.stringify(answer.folders) !== JSON.stringify(current.answer.folders);
          if (!answer.allowed || changed) {
            options.logger?.info({ userId: current.userId, reason: answer.reason }, 'SFTP session ended: no longer authorized');
            return void connection.end();
          }
          admission = { ...current, answer };
          scheduleRecheck();
        },
        (error) => {
          options.logger?.warn({ err: error, userId: current.userId }, 'SFTP session ended: authorization could not be renewed');
          connection.end();
        },
      );
    }, current.answer.maxAgeSeconds * 1000);
    recheck.unref();
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`; anything else unchanged. */
function unmapIpv4(ip: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip;
}
