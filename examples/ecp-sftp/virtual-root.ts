/**
 * The per-session chroot of the SFTP gateway: a virtual root whose entries are exactly the folders the
 * authorization answer names, each a real directory `<storage>/<organization id>/<folder name>/`. Every path a
 * client sends is resolved here, against `/`, before anything touches the disk:
 *
 * - `..`, `.` and repeated slashes are normalized first, and a relative path is relative to `/`; nothing
 *   resolves above the virtual root, so `../../etc/passwd` is `/etc/passwd`, which names no folder;
 * - a path is the root, one of the session's folders, or a file directly in one (folders are flat);
 * - hidden names (leading `.`, the gateway's partial uploads) and names with a NUL or a backslash are refused;
 * - symbolic links are never followed: files are opened with `O_NOFOLLOW` and listed only when they are regular
 *   files, and each folder must be a real directory inside the storage folder ({@link prepareFolders}).
 */
import { constants } from 'node:fs';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';

/** A folder of the session, as the authorization answer names it. */
export interface SessionFolder {
  name: string;
  kind: 'submission' | 'download';
}

/** A session folder with its directory on disk. */
export interface MountedFolder extends SessionFolder {
  dir: string;
}

/** Where a client's path leads. */
export type VirtualPath =
  | { type: 'root'; path: '/' }
  | { type: 'folder'; path: string; folder: MountedFolder }
  | { type: 'file'; path: string; folder: MountedFolder; name: string; file: string };

/** The suffix of the SHA-256 receipt written beside each uploaded file. */
export const RECEIPT_SUFFIX = '.sha256';

/** `open(2)` flag that refuses a symbolic link as the last path component (ELOOP). */
export const NO_FOLLOW = constants.O_NOFOLLOW;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Creates the organization's folder directories under `storageDir` when missing and checks that each is a real
 * directory (no symbolic link anywhere from the storage folder down).
 * @throws Error when the organization id is not a UUID or a folder is not a real directory inside the storage folder.
 */
export async function prepareFolders(storageDir: string, organizationId: string, folders: readonly SessionFolder[]): Promise<MountedFolder[]> {
  if (!UUID.test(organizationId)) throw new Error('organization id is not a UUID');
  const root = await realpath(storageDir);
  const mounted: MountedFolder[] = [];
  for (const folder of folders) {
    if (!isPlainName(folder.name)) throw new Error(`folder name ${JSON.stringify(folder.name)} is not a plain name`);
    const dir = path.join(root, organizationId.toLowerCase(), folder.name);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const stat = await lstat(dir);
    if (!stat.isDirectory() || (await realpath(dir)) !== dir) throw new Error(`folder ${folder.name} is not a real directory inside the storage folder`);
    mounted.push({ ...folder, dir });
  }
  return mounted;
}

/** True for a name that may be a file or folder entry: not empty, not `.`/`..`, no `/`, `\` or NUL, not hidden, ≤ 255 bytes. */
export function isPlainName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= 255 && !name.startsWith('.') && !/[/\\\0]/.test(name);
}

/**
 * Resolves a client's path against the session's virtual root.
 * @returns null when the path names nothing the session may reach (an unknown folder, a nested path, a hidden
 *   or malformed name): the caller answers "no such file".
 */
export function resolveVirtualPath(requested: string, folders: readonly MountedFolder[]): VirtualPath | null {
  if (requested.includes('\0') || requested.includes('\\')) return null;
  const normalized = path.posix.resolve('/', requested);
  if (normalized === '/') return { type: 'root', path: '/' };
  const [folderName, name, ...deeper] = normalized.slice(1).split('/');
  const folder = folders.find((f) => f.name === folderName);
  if (!folder || deeper.length > 0) return null;
  if (name === undefined) return { type: 'folder', path: normalized, folder };
  if (!isPlainName(name)) return null;
  return { type: 'file', path: normalized, folder, name, file: path.join(folder.dir, name) };
}

/** True when a file of `folder` may be read: any file of a download folder, only receipts in a submission folder. */
export function mayRead(folder: SessionFolder, name: string): boolean {
  return folder.kind === 'download' || name.endsWith(RECEIPT_SUFFIX);
}

/** True when a file may be uploaded as `name` into `folder`: submission folders only, never a receipt's name. */
export function mayWrite(folder: SessionFolder, name: string): boolean {
  return folder.kind === 'submission' && !name.endsWith(RECEIPT_SUFFIX);
}
