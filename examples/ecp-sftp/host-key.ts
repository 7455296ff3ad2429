/**
 * The gateway's SSH host key: generated on first start (ed25519, by ssh2's key generator) and stored, so clients
 * that recorded it in `known_hosts` recognise the gateway after a restart.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';

/**
 * An OpenSSH key pair from ssh2's generator (`utils.generateKeyPairSync`) that ssh2's own parser reads back.
 * ssh2 1.17 strips leading zero bytes from an ed25519 public key, so about 1 pair in 256 comes out with a
 * 31-byte key that `parseKey` refuses as "Malformed OpenSSH public key" (mscdex/ssh2#1513): such a pair is
 * drawn again.
 * @param type - key type; `bits` for RSA (e.g. 3072), `comment` written after the public key.
 * @returns `{ private, public }` in OpenSSH form.
 */
export function generateKeyPair(type: 'ed25519' | 'ecdsa' | 'rsa', options: { bits?: number; comment?: string } = {}): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync(type, options as never);
    if (!(ssh2.utils.parseKey(pair.public) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

/**
 * The OpenSSH private host key at `file`, generated and written (mode 0600, parent folders created) when it does
 * not exist yet. Two gateways starting together both end up with the one key written first (`wx`).
 * @throws when the file cannot be read or written.
 */
export async function ensureHostKey(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const { private: privateKey } = generateKeyPair('ed25519', { comment: 'connect-iam ECP SFTP gateway' });
  try {
    await writeFile(file, privateKey, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFile(file);
}
