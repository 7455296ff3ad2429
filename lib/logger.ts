/**
 * Structured logging (pino) with secrets redacted wherever they appear in a logged object.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs. */
export const REDACTED_PATHS = [
  'password', '*.password', 'code', '*.code', 'otp', '*.otp', 'secret', '*.secret', 'client_secret',
  'token', '*.token', 'req.headers.cookie', 'req.headers.authorization', 'headers.cookie', 'headers.authorization',
];

/**
 * Creates the process logger.
 * @param level - pino level name, e.g. `info`; `silent` for tests.
 */
export function createLogger(level: string, name = 'connect-iam'): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
