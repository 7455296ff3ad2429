/**
 * SSH public keys for ECP over SFTP: parsed with `ssh2`'s key parser (`utils.parseKey`, which reads OpenSSH,
 * RFC 4716 and PEM public keys), sized with Node's crypto, and fingerprinted as OpenSSH does
 * (`SHA256:` + unpadded base64 of the SHA-256 of the key blob, RFC 4253 §6.6 wire format).
 */
import { createHash, createPublicKey } from 'node:crypto';
import { createRequire } from 'node:module';
import type ssh2Module from 'ssh2';
import { SFTP_KEY_TYPES, SFTP_MIN_RSA_BITS } from '../../policies/index.js';
import type { KeyRefusal, SftpKey } from './model.js';

/** A public key that passed {@link parsePublicKey}. */
export interface ParsedPublicKey {
  /** SSH key type, one of `SFTP_KEY_TYPES`. */
  algorithm: string;
  bits: number;
  fingerprint: string;
  /** OpenSSH one-line form without comment: `<algorithm> <base64 blob>`. */
  publicKey: string;
  /** The key's own comment (after the blob in OpenSSH form); empty when it has none. */
  comment: string;
}

/** The outcome of {@link parsePublicKey}: the key, or a message for the form field. */
export type PublicKeyParse = { ok: true; key: ParsedPublicKey } | { ok: false; message: string };

/**
 * ssh2, loaded at the first key parsed (synchronously: it is CommonJS): an idle IdP never parses one, and
 * loading it costs about 2 MiB of heap and a 16 MiB WebAssembly memory (its Poly1305).
 */
let ssh2: typeof ssh2Module | undefined;
const loadSsh2 = (): typeof ssh2Module => (ssh2 ??= createRequire(import.meta.url)('ssh2') as typeof ssh2Module);

const CURVE_BITS: Record<string, number> = { 'ecdsa-sha2-nistp256': 256, 'ecdsa-sha2-nistp384': 384, 'ecdsa-sha2-nistp521': 521 };

/** `SHA256:` and the unpadded base64 SHA-256 of an SSH public key blob (what `ssh-keygen -l` prints; ssh2 server's `ctx.key.data`). */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Parses and checks one SSH public key as pasted by a person: ed25519, ECDSA (nistp256/384/521) or RSA of at
 * least `SFTP_MIN_RSA_BITS` bits. Never throws: refusals come back as a message worded for the form field
 * ("This RSA key has 2048 bits; …", "This is a private key; …", "This is not an SSH public key …").
 */
export function parsePublicKey(text: string): PublicKeyParse {
  const input = text.trim();
  if (input === '') return { ok: false, message: 'Paste the SSH public key (the one line of the .pub file).' };
  if (/PRIVATE KEY/.test(input)) return { ok: false, message: 'This is a private key: keep it secret, and paste the public key (the .pub file) instead.' };
  if (/^[a-z0-9-]+(@[a-z0-9.-]+)?\s/i.test(input) && input.split(/\r?\n/).filter((l) => l.trim() !== '').length > 1) {
    return { ok: false, message: 'Paste one key at a time (one line).' };
  }
  let parsed: ReturnType<typeof ssh2Module.utils.parseKey>;
  try {
    parsed = loadSsh2().utils.parseKey(input);
  } catch {
    parsed = new Error('unparsable');
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) {
    const type = /^(\S+)\s/.exec(input)?.[1];
    if (type && /^sk-/.test(type)) return { ok: false, message: 'Security-key (sk-…) SSH keys are not accepted; use an ed25519, ECDSA or RSA (3072 bits or more) key.' };
    if (type && /-cert-v01@openssh\.com$/.test(type)) return { ok: false, message: 'SSH certificates are not accepted; paste the plain public key.' };
    return { ok: false, message: 'This is not an SSH public key: paste the one line of your .pub file, e.g. "ssh-ed25519 AAAAC3Nza… name".' };
  }
  if (key.isPrivateKey()) return { ok: false, message: 'This is a private key: keep it secret, and paste the public key (the .pub file) instead.' };
  if (!(SFTP_KEY_TYPES as readonly string[]).includes(key.type)) {
    return { ok: false, message: `${key.type} keys are not accepted; use an ed25519, ECDSA or RSA (${SFTP_MIN_RSA_BITS} bits or more) key.` };
  }
  const blob = key.getPublicSSH();
  let bits: number;
  if (key.type === 'ssh-rsa') {
    bits = createPublicKey(key.getPublicPEM()).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < SFTP_MIN_RSA_BITS) return { ok: false, message: `This RSA key has ${bits} bits; RSA keys need at least ${SFTP_MIN_RSA_BITS} bits (or use an ed25519 or ECDSA key).` };
  } else {
    bits = CURVE_BITS[key.type] ?? 256;
  }
  return { ok: true, key: { algorithm: key.type, bits, fingerprint: sshFingerprint(blob), publicKey: `${key.type} ${blob.toString('base64')}`, comment: (key.comment ?? '').trim() } };
}

/**
 * Why `key` does not let its holder in at `now`, or null when it is usable.
 * @param key - the row for the presented fingerprint ({@link SftpService.findKey}); null when there is none.
 */
export function keyRefusal(key: Pick<SftpKey, 'removedAt' | 'disabledAt' | 'expiresAt'> | null, now: Date): KeyRefusal | null {
  if (!key) return 'unknown_key';
  if (key.removedAt) return 'key_removed';
  if (key.disabledAt) return 'key_disabled';
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return 'key_expired';
  return null;
}
