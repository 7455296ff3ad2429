/**
 * Recognizing PostgreSQL errors through the layers that wrap them (drizzle's DrizzleQueryError keeps the
 * driver's error as `cause`; `pg` and PGlite both expose SQLSTATE `code` and `constraint`).
 */

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

/** True when `value` has the shape of a UUID, so it can be compared with a `uuid` column without an SQL error. */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
