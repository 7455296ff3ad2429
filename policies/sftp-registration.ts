/**
 * Rules for registering ECP SFTP access (issue 14 §1): which SSH keys and source addresses an account holding
 * `EU_ECPSFTP` may have, and who may request them. Data only; identity/sftp applies them.
 */

/** The function that opens ECP through SFTP: keys and source addresses are registered only for its holders. */
export const SFTP_FUNCTION = 'EU_ECPSFTP';

/** The ECP administration function: a delegated administrator holding it may request SFTP registrations (the maker). */
export const SFTP_ADMINISTRATION_FUNCTION = 'EU_ECPAdmin';

/** At most this many SSH public keys per account (removed and disabled keys do not count). */
export const SFTP_MAX_KEYS_PER_ACCOUNT = 5;

/** At most this many source IP addresses or CIDR ranges per account. */
export const SFTP_MAX_SOURCE_RANGES_PER_ACCOUNT = 10;

/** The shortest RSA modulus accepted, in bits (NIST SP 800-57 Part 1: 3072 bits for 128-bit security). */
export const SFTP_MIN_RSA_BITS = 3072;

/**
 * SSH key types accepted (RFC 8709 ed25519, RFC 5656 ECDSA on the NIST curves, RFC 4253 RSA). DSA (`ssh-dss`) and
 * security-key types (`sk-…@openssh.com`) are not.
 */
export const SFTP_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'] as const;

/**
 * The widest source range accepted, as the shortest prefix length: a wider range would make the allow-list
 * meaningless (`0.0.0.0/0` allows everyone).
 */
export const SFTP_MIN_PREFIX_LENGTH = { ipv4: 8, ipv6: 32 } as const;
