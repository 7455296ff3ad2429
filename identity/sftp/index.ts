/** ECP over SFTP (issue 14): registered SSH public keys and source address ranges of `EU_ECPSFTP` accounts. */
export * from './model.js';
export * from './stores.js';
export { parsePublicKey, sshFingerprint, keyRefusal, type ParsedPublicKey, type PublicKeyParse } from './keys.js';
export { parseSourceRange, sourceAllowed, type SourceRangeParse } from './source-ranges.js';
export { createSftpService, type SftpService } from './sftp-service.js';
export { createSftpDecisions, sftpMembership, type SftpDecisions, type SftpDecisionDeps, type SftpDecisionThrottle, type SftpAccessRequest, type SftpAccessDecision, type SftpAccessReason, type SftpReceipt } from './decision.js';
