/** SSH public key fingerprints as OpenSSH prints them (`ssh-keygen -l`). */
import { createHash } from 'node:crypto';

/**
 * `SHA256:<unpadded base64>` of a public key blob in SSH wire format (RFC 4253 §6.6), the form connect-iam
 * registers keys by.
 * @example sshFingerprint(ctx.key.data) // 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s'
 */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
