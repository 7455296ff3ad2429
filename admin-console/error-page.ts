/**
 * The console's last-resort error handler. Never a stack trace or SQL: a malformed request (oversized or
 * unreadable body, too many fields, unsupported charset or Content-Encoding, malformed percent-encoding;
 * lib/bad-input.ts) gets its 4xx, text PostgreSQL cannot store (NUL) a 400, a database that is down a 503
 * with `Retry-After`, a DomainError meant to be shown its status and message; anything else a generic 500,
 * logged with its cause.
 */
import type { ErrorRequestHandler } from 'express';
import { badRequestOf, controlCharacterMessage, DomainError, isInvalidTextError, isUnavailable } from '../lib/index.js';

/** Seconds a person should wait before retrying when the database is unavailable. */
const RETRY_AFTER_SECONDS = 5;

/** Status, title and message of `error` for the page; undefined for a server fault. */
function describe(error: unknown): { status: number; title: string; message: string } | undefined {
  const bad = badRequestOf(error);
  if (bad) return { status: bad.status, title: bad.title, message: bad.message };
  if (isInvalidTextError(error)) return { status: 400, ...controlCharacterMessage([]) };
  if (isUnavailable(error)) return { status: 503, title: 'Temporarily unavailable', message: 'The console is temporarily unavailable. If you were saving a change, it may or may not have been saved: open the request or the account again to see, then try again in a minute.' };
  if (error instanceof DomainError && error.expose) return { status: error.status, title: 'This cannot be done', message: error.message };
  return undefined;
}

/** Creates the handler; mount it after every route of the console. */
export function consoleErrorPage(logger: { warn(details: object, message: string): void } = { warn: (d, m) => console.warn(m, d) }): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const known = describe(error);
    if (!known || known.status >= 500) logger.warn({ err: error }, 'admin console request failed');
    if (known?.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    if (known) return res.status(known.status).render('error', { title: known.title, message: known.message });
    res.status(500).render('error', { title: 'Something went wrong', message: 'Please try again in a moment.' });
  };
}
