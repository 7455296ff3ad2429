/**
 * ECP over SFTP (issue 14): the SSH public keys and source address ranges registered for an account holding
 * `EU_ECPSFTP`. Plain data; storage/ maps them to the `sftp_keys` and `sftp_source_ranges` tables.
 */

/**
 * A registered SSH public key. It is *usable* while `removedAt` and `disabledAt` are null and `expiresAt` is
 * null or later than now ({@link keyRefusal} in keys.ts).
 */
export interface SftpKey {
  id: string;
  accountId: string;
  /** SSH key type: `ssh-ed25519`, `ecdsa-sha2-nistp256|384|521` or `ssh-rsa`. */
  algorithm: string;
  /** Size in bits: the RSA modulus, the ECDSA curve's (256, 384, 521), 256 for ed25519. */
  bits: number;
  /** `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** OpenSSH one-line form without comment: `<algorithm> <base64 blob>`. */
  publicKey: string;
  /** The name the maker gave it (default: the key's own comment); may be empty. */
  comment: string;
  addedAt: Date;
  /** Null: never expires. */
  expiresAt: Date | null;
  /** When the SFTP gateway last accepted it (recordKeyUse), and from which address. */
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  /** Set when the account lost `EU_ECPSFTP`; a disabled key stays disabled (register it again). */
  disabledAt: Date | null;
  /** Set when a removal request completed. */
  removedAt: Date | null;
  addedByRequestId: string | null;
  removedByRequestId: string | null;
}

/** A source address range the account may connect from: canonical CIDR (`203.0.113.0/24`, `::1/128`). */
export interface SftpSourceRange {
  id: string;
  accountId: string;
  cidr: string;
  /** The name the maker gave it; may be empty. */
  comment: string;
  addedAt: Date;
  removedAt: Date | null;
  addedByRequestId: string | null;
  removedByRequestId: string | null;
}

/** Why a key does not let its holder in (null from {@link keyRefusal} when it does). */
export type KeyRefusal = 'unknown_key' | 'key_removed' | 'key_disabled' | 'key_expired';

/** What the console's account page shows about an account's SFTP access. */
export interface SftpAccess {
  /** Keys not removed (usable, expired and disabled ones), oldest first. */
  keys: SftpKey[];
  /** Ranges not removed, oldest first. */
  sourceRanges: SftpSourceRange[];
}
