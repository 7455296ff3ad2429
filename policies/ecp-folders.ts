/**
 * The ECP folder catalogue: every folder a function can open (policies/functions.ts `ecpFolders`), with its kind,
 * and the folders an account reaches through SFTP. Data and pure decisions only.
 *
 * - A `submission` folder is write-only: the holder uploads files into it and reads back only the SHA-256
 *   receipts written beside them (seed FAQ 26: submitted files are never downloaded again, the checksum is shown
 *   instead). The same file name uploaded again replaces the earlier file (seed FAQ 25).
 * - A `download` folder is read-only: ECP puts reports there, the holder downloads them.
 */
import { FUNCTIONS, findFunction, type FunctionDefinition } from './functions.js';

/** What a folder lets its holder do. */
export type EcpFolderKind = 'submission' | 'download';

/** One catalogued ECP folder. */
export interface EcpFolderDefinition {
  /** The folder's name, as the web interface and the SFTP listing show it. */
  name: string;
  kind: EcpFolderKind;
}

/** Every ECP folder, keyed by name. */
export const ECP_FOLDERS = {
  'Clearing Submission': { name: 'Clearing Submission', kind: 'submission' },
  'Submission Acknowledgements': { name: 'Submission Acknowledgements', kind: 'download' },
  'Daily Reports': { name: 'Daily Reports', kind: 'download' },
  'Monthly Statements': { name: 'Monthly Statements', kind: 'download' },
} as const satisfies Record<string, EcpFolderDefinition>;

/** The definition of a folder, or null when it is not catalogued. */
export function findEcpFolder(name: string): EcpFolderDefinition | null {
  return Object.hasOwn(ECP_FOLDERS, name) ? ECP_FOLDERS[name as keyof typeof ECP_FOLDERS] : null;
}

/** Which folders an SFTP session may open, derived from a membership's functions. */
export interface SftpFolderAccess {
  /** True when the functions include `EU_ECPSFTP`; otherwise `folders` is empty. */
  allowed: boolean;
  reason: 'sftp_function_held' | 'function_missing';
  /** In catalogue order, without duplicates; uncatalogued names left out (deny by default). */
  folders: EcpFolderDefinition[];
}

/**
 * Decides the SFTP folders of a membership: only `EU_ECPSFTP` opens SFTP, and then the session reaches the folders
 * of every ECP function the membership holds — `EU_ECPSFTP`'s own and those of ECP web functions held with it.
 */
export function evaluateSftpFolders(held: readonly string[]): SftpFolderAccess {
  if (!held.includes(FUNCTIONS.EU_ECPSFTP.name)) return { allowed: false, reason: 'function_missing', folders: [] };
  const ecp = held.map((f) => findFunction(f)).filter((d): d is FunctionDefinition => d?.application === 'ecp');
  const names = new Set(ecp.flatMap((d) => d.ecpFolders ?? []));
  const folders = Object.values(ECP_FOLDERS).filter((f) => names.has(f.name));
  return { allowed: true, reason: 'sftp_function_held', folders };
}
