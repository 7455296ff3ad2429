/**
 * Domain errors: one base class with a stable snake_case `code`, the HTTP status it maps to, and
 * whether its message is safe to show. Detail belongs in `cause` and the logs, never in responses.
 * Protocol errors are oidc-provider's own `errors.*`, not these.
 */

/** Stable error codes and the HTTP status each maps to. */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  quota_exceeded: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;

/** One of {@link ERROR_STATUS}'s keys. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Field name → human-readable messages, for forms and `--json` CLI output. */
export type FieldErrors = Record<string, string[]>;

/**
 * Base of every error the domain raises on purpose.
 * @param code - stable machine-readable code (see {@link ERROR_STATUS}).
 * @param message - safe to show to the person who caused it when `expose` is true.
 */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly fieldErrors: FieldErrors | undefined;

  constructor(code: ErrorCode, message: string, options: { expose?: boolean; fieldErrors?: FieldErrors; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.expose = options.expose ?? this.status < 500;
    this.fieldErrors = options.fieldErrors;
  }
}

/** Thrown by `loadConfig` when an environment variable is invalid; the process should exit. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Shorthand for a {@link DomainError} with code `validation_failed` and per-field messages. */
export function validationError(fieldErrors: FieldErrors, message = 'Some fields are not valid.'): DomainError {
  return new DomainError('validation_failed', message, { fieldErrors });
}

/** Converts zod issues to {@link FieldErrors}, keyed by the first path segment ("form" when none). */
export function toFieldErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.length ? String(issue.path[0]) : 'form';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** Socket errors (Node) that mean the database cannot be reached. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
/**
 * PostgreSQL SQLSTATEs that mean the server is unavailable: class 08, shutdown, too many connections, and the
 * bounds we set ending a wait (57014 `statement_timeout`, 25P03 `idle_in_transaction_session_timeout`).
 */
const UNAVAILABLE_SQLSTATES = /^(08[0-9A-Z]{3}|57P0[123]|53300|57014|25P03)$/;
/** Driver messages of the same: pg's connect, pool-acquire (`timeout exceeded when trying to connect`) and `query_timeout` (`Query read timeout`) bounds among them. */
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error and is not queryable|is not currently accepting connections|Cannot use a pool after calling end|PGlite is closed/i;

/**
 * True when `error` (or any error in its `cause` chain, as drizzle wraps driver errors) says the database is
 * down or unreachable rather than that the request was wrong: such requests answer 503 with an error id and
 * succeed again once the database is back (design/security.md §12).
 */
export function isUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DomainError) return e.code === 'unavailable';
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATES.test(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
  }
  return false;
}
