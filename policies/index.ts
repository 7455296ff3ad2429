/** Data and pure decisions: the function catalogue, access decisions and product security rules. */
export * from './functions.js';
export * from './decision.js';
export * from './security.js';
export * from './authenticator.js';
export * from './ecp-folders.js';
export * from './sftp-registration.js';
export * from './phishing-resistant.js';
