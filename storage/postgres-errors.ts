/**
 * Recognizing PostgreSQL errors through the layers that wrap them (drizzle's DrizzleQueryError keeps the
 * driver's error as `cause`; `pg` and PGlite both expose SQLSTATE `code` and `constraint`).
 */
import { DomainError, isInvalidTextError } from '../lib/index.js';

interface PgErrorFields {
  code?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

/** The first error in the `cause` chain with a SQLSTATE `code`; undefined when there is none. */
function sqlStateError(error: unknown): PgErrorFields | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const fields = current as PgErrorFields;
    if (typeof fields.code === 'string' && /^[0-9A-Z]{5}$/.test(fields.code)) return fields;
    current = fields.cause;
  }
  return undefined;
}

/**
 * The constraint a unique violation (SQLSTATE 23505) broke, e.g. `accounts_email_lower_key`;
 * `''` when the driver did not say which; null when `error` is no unique violation.
 */
export function uniqueViolation(error: unknown): string | null {
  const found = sqlStateError(error);
  if (found?.code !== '23505') return null;
  return typeof found.constraint === 'string' ? found.constraint : '';
}

/** True when `error` is a foreign key violation (SQLSTATE 23503): the row names one that does not exist. */
export function foreignKeyViolation(error: unknown): boolean {
  return sqlStateError(error)?.code === '23503';
}

/** True when `value` has the shape of a UUID, so it can be compared with a `uuid` column without an SQL error. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** The error a store throws instead of PostgreSQL's refusal of text holding NUL (SQLSTATE 22021 / 22P05). */
function invalidTextError(cause: unknown): DomainError {
  return new DomainError('validation_failed', 'What you sent contains characters that cannot be stored (a NUL character). Remove them and try again.', { cause });
}

/**
 * `store` with each method's PostgreSQL refusal of NUL in text or jsonb (lib's `isInvalidTextError`: SQLSTATE
 * 22021 "invalid byte sequence for encoding UTF8: 0x00", 22P05 "unsupported Unicode escape sequence", from
 * `pg` and PGlite alike) turned into a DomainError `validation_failed` (400): such a request was wrong, not the
 * server. The edge middlewares refuse NUL first; this is the backstop for input that slips past them.
 * Other errors pass through unchanged. A plain object's function-valued properties are wrapped; any other
 * value (a class instance) is returned as it is.
 */
export function translateInvalidText<T extends object>(store: T): T {
  if (Object.getPrototypeOf(store) !== Object.prototype) return store; // class instances keep their methods on the prototype
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function') {
      wrapped[name] = member;
      continue;
    }
    const translate = (error: unknown) => {
      throw isInvalidTextError(error) ? invalidTextError(error) : error;
    };
    wrapped[name] = (...args: unknown[]) => {
      try {
        const result = (member as (...a: unknown[]) => unknown).apply(store, args);
        return result instanceof Promise ? result.catch(translate) : result;
      } catch (error) {
        return translate(error);
      }
    };
  }
  return wrapped as T;
}
