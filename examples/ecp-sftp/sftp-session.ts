/**
 * One SFTP subsystem (draft-ietf-secsh-filexfer-02, as OpenSSH speaks it) over the session's virtual root
 * (virtual-root.ts): list the root and the folders, download from download folders, upload into submission folders.
 * Everything else — writing a download folder, reading a submitted file, removing, renaming, making directories,
 * links — answers PERMISSION_DENIED or OP_UNSUPPORTED.
 *
 * An upload goes to a hidden partial file; on CLOSE its SHA-256 is computed from what was written, it replaces any
 * earlier file of the same name in one rename (seed FAQ 25: the same name again overwrites), and the receipt
 * `<name>.sha256` (`sha256sum` format) is written beside it the same way, then reported ({@link SftpSessionOptions.onUpload}).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import ssh2, { type Attributes, type FileEntry, type SFTPWrapper } from 'ssh2';
import { mayRead, mayWrite, NO_FOLLOW, RECEIPT_SUFFIX, resolveVirtualPath, type MountedFolder, type VirtualPath } from './virtual-root.js';

const { OPEN_MODE, STATUS_CODE } = ssh2.utils.sftp;

/** What an upload produced, once its file and receipt are in place. */
export interface UploadReceipt {
  folder: string;
  fileName: string;
  bytes: number;
  /** Lower-case hex SHA-256 of the file's content. */
  sha256: string;
}

/** Options of {@link serveSftp}. */
export interface SftpSessionOptions {
  folders: readonly MountedFolder[];
  /** Largest upload, in bytes; a write past it fails. */
  maxUploadBytes: number;
  /** Called after each upload's file and receipt are written; a rejection makes the client's CLOSE fail. */
  onUpload(receipt: UploadReceipt): Promise<void>;
  /** Where unexpected file-system errors go. */
  onError?(error: unknown): void;
}

type Handle =
  | { kind: 'dir'; entries: FileEntry[] | null }
  | { kind: 'read'; fd: FileHandle }
  | { kind: 'write'; fd: FileHandle; partial: string; target: Extract<VirtualPath, { type: 'file' }>; writes: Promise<unknown> };

/** Most handles one session may hold open at once. */
const MAX_HANDLES = 64;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** Serves one SFTP subsystem until the channel closes; partial uploads left open are deleted then. */
export function serveSftp(sftp: SFTPWrapper, options: SftpSessionOptions): void {
  const { folders } = options;
  const handles = new Map<number, Handle>();
  let nextHandle = 0;
  const handleOf = (buffer: Buffer) => (buffer.length === 4 ? handles.get(buffer.readUInt32BE(0)) : undefined);
  const newHandle = (reqid: number, handle: Handle) => {
    const id = nextHandle++;
    handles.set(id, handle);
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(id >>> 0, 0);
    sftp.handle(reqid, buffer);
  };
  const fail = (reqid: number, error: unknown) => {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    options.onError?.(error);
    sftp.status(reqid, STATUS_CODE.FAILURE);
  };
  const guard = (reqid: number, work: () => Promise<unknown>) => void work().catch((error) => fail(reqid, error));

  sftp.on('REALPATH', (reqid, requested) => {
    const resolved = resolveVirtualPath(requested, folders);
    if (!resolved) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    sftp.name(reqid, [{ filename: resolved.path, longname: resolved.path, attrs: {} as Attributes }]);
  });

  const stat = (reqid: number, requested: string) =>
    guard(reqid, async () => {
      const resolved = resolveVirtualPath(requested, folders);
      const attrs = resolved && (await attributesOf(resolved));
      if (!attrs) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
      sftp.attrs(reqid, attrs);
    });
  sftp.on('STAT', stat).on('LSTAT', stat);

  sftp.on('OPENDIR', (reqid, requested) => {
    const resolved = resolveVirtualPath(requested, folders);
    if (!resolved || resolved.type === 'file') return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    if (handles.size >= MAX_HANDLES) return sftp.status(reqid, STATUS_CODE.FAILURE);
    guard(reqid, async () => newHandle(reqid, { kind: 'dir', entries: await listEntries(resolved, folders) }));
  });

  sftp.on('READDIR', (reqid, buffer) => {
    const handle = handleOf(buffer);
    if (handle?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (!handle.entries) return sftp.status(reqid, STATUS_CODE.EOF);
    const entries = handle.entries;
    handle.entries = null;
    entries.length ? sftp.name(reqid, entries) : sftp.status(reqid, STATUS_CODE.EOF);
  });

  sftp.on('OPEN', (reqid, requested, flags) => {
    const resolved = resolveVirtualPath(requested, folders);
    if (!resolved) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
    if (resolved.type !== 'file') return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
    if (handles.size >= MAX_HANDLES) return sftp.status(reqid, STATUS_CODE.FAILURE);
    const reading = (flags & OPEN_MODE.READ) !== 0;
    const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
    if (reading === writing) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED); // read-write is never allowed
    if (reading) {
      if (!mayRead(resolved.folder, resolved.name)) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
      return guard(reqid, async () => {
        const fd = await open(resolved.file, constants.O_RDONLY | NO_FOLLOW);
        if (!(await fd.stat()).isFile()) {
          await fd.close();
          return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE);
        }
        newHandle(reqid, { kind: 'read', fd });
      });
    }
    if (!mayWrite(resolved.folder, resolved.name) || (flags & OPEN_MODE.APPEND) !== 0) return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
    guard(reqid, async () => {
      const partial = path.join(resolved.folder.dir, `.upload-${randomBytes(12).toString('hex')}`);
      const fd = await open(partial, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o640);
      newHandle(reqid, { kind: 'write', fd, partial, target: resolved, writes: Promise.resolve() });
    });
  });

  sftp.on('READ', (reqid, buffer, offset, length) => {
    const handle = handleOf(buffer);
    if (handle?.kind !== 'read') return sftp.status(reqid, handle ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE);
    guard(reqid, async () => {
      const chunk = Buffer.alloc(Math.min(length, 256 * 1024));
      const { bytesRead } = await handle.fd.read(chunk, 0, chunk.length, offset);
      bytesRead === 0 ? sftp.status(reqid, STATUS_CODE.EOF) : sftp.data(reqid, chunk.subarray(0, bytesRead));
    });
  });

  sftp.on('WRITE', (reqid, buffer, offset, data) => {
    const handle = handleOf(buffer);
    if (handle?.kind !== 'write') return sftp.status(reqid, handle ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE);
    const end = offset + data.length;
    if (end > options.maxUploadBytes) return sftp.status(reqid, STATUS_CODE.FAILURE);
    // One write at a time per file, so CLOSE (which waits for them) hashes everything that was acknowledged.
    const written = handle.writes.then(() => handle.fd.write(data, 0, data.length, offset));
    handle.writes = written.catch(() => undefined);
    guard(reqid, async () => (await written, sftp.status(reqid, STATUS_CODE.OK)));
  });

  sftp.on('FSTAT', (reqid, buffer) => {
    const handle = handleOf(buffer);
    if (!handle || handle.kind === 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE);
    guard(reqid, async () => sftp.attrs(reqid, fileAttributes(await handle.fd.stat(), handle.kind === 'read' ? 0o444 : 0o200)));
  });
  // Times and modes are the gateway's to set: accept the request (OpenSSH's `put -p` sends it) and change nothing.
  sftp.on('FSETSTAT', (reqid, buffer) => sftp.status(reqid, handleOf(buffer) ? STATUS_CODE.OK : STATUS_CODE.FAILURE));
  sftp.on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED));

  sftp.on('CLOSE', (reqid, buffer) => {
    const handle = handleOf(buffer);
    if (!handle) return sftp.status(reqid, STATUS_CODE.FAILURE);
    handles.delete(buffer.readUInt32BE(0));
    if (handle.kind === 'dir') return sftp.status(reqid, STATUS_CODE.OK);
    if (handle.kind === 'read') return guard(reqid, async () => (await handle.fd.close(), sftp.status(reqid, STATUS_CODE.OK)));
    guard(reqid, async () => {
      try {
        await handle.writes;
        await handle.fd.close();
        const receipt = await completeUpload(handle.partial, handle.target);
        await options.onUpload(receipt);
        sftp.status(reqid, STATUS_CODE.OK);
      } finally {
        await rm(handle.partial, { force: true });
      }
    });
  });

  for (const event of ['REMOVE', 'RMDIR', 'MKDIR', 'RENAME', 'SYMLINK', 'READLINK'] as const) {
    sftp.on(event, (reqid: number) => sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED));
  }

  // The client is done (EOF, as OpenSSH's sftp sends at `bye`): close our side too, or it waits for us.
  sftp.on('end', () => sftp.end());
  sftp.on('close', () => {
    for (const handle of handles.values()) {
      if (handle.kind === 'dir') continue;
      void handle.fd.close().catch(() => undefined);
      if (handle.kind === 'write') void rm(handle.partial, { force: true });
    }
    handles.clear();
  });
}

/** Hashes the partial upload, moves it over `target` and writes the receipt beside it (each by one rename). */
async function completeUpload(partial: string, target: Extract<VirtualPath, { type: 'file' }>): Promise<UploadReceipt> {
  const hash = createHash('sha256');
  let bytes = 0;
  const fd = await open(partial, constants.O_RDONLY | NO_FOLLOW);
  for await (const chunk of fd.createReadStream()) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  const sha256 = hash.digest('hex');
  await rename(partial, target.file);
  const receiptPartial = `${partial}${RECEIPT_SUFFIX}`;
  await writeFile(receiptPartial, `${sha256}  ${target.name}\n`, { flag: 'wx', mode: 0o640 });
  await rename(receiptPartial, `${target.file}${RECEIPT_SUFFIX}`);
  return { folder: target.folder.name, fileName: target.name, bytes, sha256 };
}

/** The attributes of a virtual path, or null when it does not exist (or is not a regular file). */
async function attributesOf(resolved: VirtualPath): Promise<Attributes | null> {
  if (resolved.type === 'root') return directoryAttributes(0o555, new Date());
  if (resolved.type === 'folder') return directoryAttributes(resolved.folder.kind === 'download' ? 0o555 : 0o755, (await lstat(resolved.folder.dir)).mtime);
  const stats = await lstat(resolved.file).catch(() => null);
  if (!stats?.isFile()) return null;
  return fileAttributes(stats, mayRead(resolved.folder, resolved.name) ? 0o444 : 0o200);
}

function directoryAttributes(permissions: number, mtime: Date): Attributes {
  const seconds = Math.floor(mtime.getTime() / 1000);
  return { mode: S_IFDIR | permissions, uid: 0, gid: 0, size: 0, atime: seconds, mtime: seconds };
}

function fileAttributes(stats: { size: number; mtime: Date }, permissions: number): Attributes {
  const seconds = Math.floor(stats.mtime.getTime() / 1000);
  return { mode: S_IFREG | permissions, uid: 0, gid: 0, size: stats.size, atime: seconds, mtime: seconds };
}

/** The entries of the root (the session's folders) or of a folder (its regular, visible files). */
async function listEntries(resolved: Exclude<VirtualPath, { type: 'file' }>, folders: readonly MountedFolder[]): Promise<FileEntry[]> {
  if (resolved.type === 'root') {
    return Promise.all(folders.map(async (folder) => entry(folder.name, (await attributesOf({ type: 'folder', path: `/${folder.name}`, folder }))!)));
  }
  const out: FileEntry[] = [];
  for (const dirent of await readdir(resolved.folder.dir, { withFileTypes: true })) {
    if (!dirent.isFile() || dirent.name.startsWith('.')) continue; // symbolic links, partial uploads
    const attrs = await attributesOf({ type: 'file', path: '', folder: resolved.folder, name: dirent.name, file: path.join(resolved.folder.dir, dirent.name) });
    if (attrs) out.push(entry(dirent.name, attrs));
  }
  return out.sort((a, b) => a.filename.localeCompare(b.filename));
}

/** An `ls -l`-style entry, as OpenSSH's `ls` prints the longname. */
function entry(filename: string, attrs: Attributes): FileEntry {
  const type = (attrs.mode & S_IFDIR) === S_IFDIR ? 'd' : '-';
  const bits = (attrs.mode & 0o777).toString(2).padStart(9, '0');
  const rwx = [...bits].map((b, i) => (b === '1' ? 'rwx'[i % 3] : '-')).join('');
  const date = new Date(attrs.mtime * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return { filename, longname: `${type}${rwx} 1 ecp ecp ${String(attrs.size).padStart(10)} ${date} ${filename}`, attrs };
}
