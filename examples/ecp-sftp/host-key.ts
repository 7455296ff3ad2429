/**
 * The gateway's SSH host key: generated on first start (ed25519, by ssh2's key generator) and stored, so clients
 * that recorded it in `known_hosts` recognise the gateway after a restart.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';

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
  const { private: privateKey } = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'connect-iam ECP SFTP gateway' });
  try {
    await writeFile(file, privateKey, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFile(file);
}
