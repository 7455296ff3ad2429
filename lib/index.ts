/** Primitives without domain words: configuration, errors, logging, time, ids, encryption, mail. */
export * from './config.js';
export * from './errors.js';
export * from './bad-input.js';
export * from './logger.js';
export * from './clock.js';
export * from './ids.js';
export * from './sealed-box.js';
export * from './mail.js';
