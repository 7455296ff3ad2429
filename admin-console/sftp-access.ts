/**
 * The account page's "ECP SFTP access" section (issue 14 §4): the account's registered SSH keys (fingerprint,
 * name, added, expires, last used, state) and source addresses, and whether the signed-in delegated administrator
 * may request changes to them (a DA holding ECP administration, EU_ECPAdmin). Plain strings for the view.
 */
import { formatInstant, keyRefusal, parsePublicKey, type ChangeRequestType, type Identity, type SftpKey } from '../identity/index.js';
import { SFTP_ADMINISTRATION_FUNCTION, SFTP_FUNCTION, SFTP_MAX_KEYS_PER_ACCOUNT, SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT } from '../policies/index.js';
import type { AdminContext } from './options.js';

/** One key row. */
export interface SftpKeyRow {
  id: string;
  fingerprint: string;
  /** e.g. `ED25519 (256 bits)`. */
  type: string;
  name: string;
  added: string;
  expires: string;
  lastUsed: string;
  /** `Active`, `Expired`, `Disabled (EU_ECPSFTP removed)`. */
  state: string;
  /** The key can be removed (a removal request). */
  removable: boolean;
}

/** One source address row. */
export interface SftpRangeRow {
  id: string;
  cidr: string;
  name: string;
  added: string;
}

/** What the section shows. */
export interface SftpAccessView {
  /** Show the section: the membership holds EU_ECPSFTP, or keys or addresses are registered. */
  show: boolean;
  holdsSftp: boolean;
  /** The signed-in DA holds EU_ECPAdmin in the organization: the request forms are offered. */
  canRequest: boolean;
  keys: SftpKeyRow[];
  ranges: SftpRangeRow[];
  maxKeys: number;
  maxRanges: number;
  sftpFunction: string;
  administrationFunction: string;
  /** Audit log links: this account's SFTP sign-ins, and refusals. */
  signInsHref: string;
  refusalsHref: string;
}

const TYPE_NAMES: Record<string, string> = { 'ssh-ed25519': 'ED25519', 'ssh-rsa': 'RSA', 'ecdsa-sha2-nistp256': 'ECDSA P-256', 'ecdsa-sha2-nistp384': 'ECDSA P-384', 'ecdsa-sha2-nistp521': 'ECDSA P-521' };

function stateOf(key: SftpKey, now: Date): string {
  switch (keyRefusal(key, now)) {
    case 'key_disabled':
      return `Disabled (${SFTP_FUNCTION} removed)`;
    case 'key_expired':
      return 'Expired';
    default:
      return 'Active';
  }
}

/** True when the signed-in DA holds ECP administration in the administered organization. */
export async function adminHoldsEcpAdministration(identity: Identity, admin: AdminContext): Promise<boolean> {
  const view = await identity.accounts.findAccount(admin.actor.accountId);
  return Boolean(view?.memberships.find((m) => m.organizationId === admin.organization.id)?.functions.includes(SFTP_ADMINISTRATION_FUNCTION));
}

/** Gathers the section for `account` (its functions in the organization: `functions`), times in the admin's time zone. */
export async function sftpAccessView(identity: Identity, admin: AdminContext, account: { id: string; userId: string; closed: boolean }, functions: readonly string[]): Promise<SftpAccessView> {
  const [access, canRequest] = await Promise.all([identity.sftp.access(account.id), adminHoldsEcpAdministration(identity, admin)]);
  const now = new Date();
  const at = (d: Date | null, none: string) => (d ? formatInstant(d, admin.timeZone) : none);
  const holdsSftp = functions.includes(SFTP_FUNCTION);
  const audit = (type: string) => `/audit?${new URLSearchParams({ type, account: account.userId }).toString()}`;
  return {
    show: holdsSftp || access.keys.length > 0 || access.sourceRanges.length > 0,
    holdsSftp,
    canRequest: canRequest && !account.closed,
    keys: access.keys.map((k) => ({
      id: k.id,
      fingerprint: k.fingerprint,
      type: `${TYPE_NAMES[k.algorithm] ?? k.algorithm} (${k.bits} bits)`,
      name: k.comment,
      added: at(k.addedAt, ''),
      expires: at(k.expiresAt, 'Never'),
      lastUsed: k.lastUsedAt ? `${at(k.lastUsedAt, '')}${k.lastUsedIp ? ` from ${k.lastUsedIp}` : ''}` : 'Never',
      state: stateOf(k, now),
      removable: true,
    })),
    ranges: access.sourceRanges.map((r) => ({ id: r.id, cidr: r.cidr, name: r.comment, added: at(r.addedAt, '') })),
    maxKeys: SFTP_MAX_KEYS_PER_ACCOUNT,
    maxRanges: SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT,
    sftpFunction: SFTP_FUNCTION,
    administrationFunction: SFTP_ADMINISTRATION_FUNCTION,
    signInsHref: audit('sftp.access_allowed'),
    refusalsHref: audit('sftp.access_refused'),
  };
}

/**
 * What the request page shows of an SFTP request's payload (the checker reviews exactly this): the key's
 * fingerprint, type and full public key, name and expiry; or the address range and name. Empty for other types.
 */
export function sftpRequestDetails(type: ChangeRequestType, payload: Record<string, unknown>, timeZone: string): Array<{ label: string; value: string }> {
  const text = (v: unknown, none = '—') => (typeof v === 'string' && v !== '' ? v : none);
  if (type === 'register_sftp_key') {
    const parsed = parsePublicKey(String(payload.publicKey ?? ''));
    const expires = typeof payload.expiresAt === 'string' ? formatInstant(new Date(payload.expiresAt), timeZone) : 'Never';
    return [
      { label: 'Fingerprint', value: parsed.ok ? parsed.key.fingerprint : '—' },
      { label: 'Type', value: parsed.ok ? `${TYPE_NAMES[parsed.key.algorithm] ?? parsed.key.algorithm} (${parsed.key.bits} bits)` : '—' },
      { label: 'Public key', value: parsed.ok ? parsed.key.publicKey : text(payload.publicKey) },
      { label: 'Name', value: text(payload.name, parsed.ok ? text(parsed.key.comment) : '—') },
      { label: 'Expires', value: expires },
    ];
  }
  if (type === 'add_sftp_source_range') return [{ label: 'Address or range', value: text(payload.cidr) }, { label: 'Name', value: text(payload.name) }];
  return [];
}
