/**
 * Recognizing malformed requests before they reach a handler or the database, without HTTP framework types:
 * control characters in what a person or client sent (PostgreSQL refuses NUL in text and jsonb), and the
 * errors body parsers and URI decoding raise (body-parser/raw-body errors carry `type` and `status`; a
 * malformed `%` escape raises `URIError`). Each app turns the result into its own page or JSON answer.
 */
import { DomainError } from './errors.js';

/**
 * C0 control characters but tab, LF and CR (which a textarea legitimately sends), DEL, and the C1 range.
 * No form field, query or path parameter of ours needs any of them; NUL cannot even be stored.
 */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** True when `value` (a string, or strings nested in arrays and objects, keys included) holds a control character. */
export function hasControlCharacter(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return CONTROL_CHARACTER.test(value);
  if (!value || typeof value !== 'object' || depth > 8) return false;
  const entries = Array.isArray(value) ? value.map((v) => ['', v] as const) : Object.entries(value);
  return entries.some(([key, v]) => CONTROL_CHARACTER.test(key) || hasControlCharacter(v, depth + 1));
}

/**
 * The names of the fields of `fields` (a parsed form body or query) whose name or value holds a control
 * character; empty when there is none.
 */
export function fieldsWithControlCharacters(fields: unknown): string[] {
  if (!fields || typeof fields !== 'object') return [];
  return Object.entries(fields).flatMap(([name, value]) => (hasControlCharacter(name) || hasControlCharacter(value) ? [name.replace(CONTROL_CHARACTER, '?')] : []));
}

/** What is wrong with a request's path and query, checked before routing. */
export type UrlProblem = { kind: 'malformed_path' } | { kind: 'control_character'; fields: string[] };

/**
 * Checks a request's path (percent-decoded as routers decode it) and its parsed query.
 * @param path - the raw path, e.g. Express's `req.path`.
 * @param query - the parsed query, e.g. Express's `req.query`.
 * @returns the problem, or null when both are fine.
 */
export function urlProblem(path: string, query: unknown): UrlProblem | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { kind: 'malformed_path' };
  }
  if (hasControlCharacter(decoded)) return { kind: 'control_character', fields: ['path'] };
  const fields = fieldsWithControlCharacters(query);
  return fields.length ? { kind: 'control_character', fields } : null;
}

/** Status, title and message of a malformed request, as a person may see them. */
export interface BadRequest {
  status: number;
  /** body-parser's `type` (e.g. `charset.unsupported`), `uri.malformed`, or `request.invalid`. */
  reason: string;
  title: string;
  message: string;
}

/** body-parser's error types and what they mean to the person who sent the request. */
const BODY_ERRORS: Record<string, Omit<BadRequest, 'reason'>> = {
  'entity.too.large': { status: 413, title: 'Form too large', message: 'What you sent is larger than this form accepts. Go back, shorten what you typed and try again.' },
  'parameters.too.many': { status: 413, title: 'Too many fields', message: 'What you sent has more fields than this form accepts. Go back and submit the form as it is shown.' },
  'charset.unsupported': { status: 415, title: 'Form not understood', message: 'What you sent is in a character set this form does not accept. Send it as UTF-8.' },
  'encoding.unsupported': { status: 415, title: 'Form not understood', message: 'What you sent is compressed in a way this form does not accept.' },
  'entity.parse.failed': { status: 400, title: 'Form not understood', message: 'What you sent could not be read. Go back and try again.' },
  'request.aborted': { status: 400, title: 'Form not understood', message: 'The form was not sent completely. Go back and try again.' },
  'request.size.invalid': { status: 400, title: 'Form not understood', message: 'The form was not sent completely. Go back and try again.' },
};

/**
 * What to answer for `error` when it says the request was malformed rather than that the server failed:
 * a body-parser error (by `type`: too large or too many parameters 413, unsupported charset or encoding 415,
 * unparsable or aborted 400), a percent-decoding failure (`URIError`, Express/path-to-regexp's "Failed to
 * decode param") 400, or any other error that carries a 4xx `status` and `expose` (http-errors).
 * @returns undefined for every other error: a server fault, or a DomainError (whose own message the caller shows).
 */
export function badRequestOf(error: unknown): BadRequest | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const { type, status, statusCode, expose } = error as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown };
  const code = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : undefined;
  if (typeof type === 'string' && BODY_ERRORS[type]) return { reason: type, ...BODY_ERRORS[type] };
  if (error instanceof URIError) return { status: 400, reason: 'uri.malformed', ...MALFORMED_ADDRESS };
  if (error instanceof DomainError) return undefined; // the caller shows its own safe message
  if (code !== undefined && code >= 400 && code < 500 && expose !== false) {
    return { status: code, reason: typeof type === 'string' ? type : 'request.invalid', title: 'Request not understood', message: 'What you sent could not be read. Go back and try again.' };
  }
  return undefined;
}

/** Title and message for an address with malformed percent-encoding. */
export const MALFORMED_ADDRESS = { title: 'Address not valid', message: 'The address of this page is not valid (it has a malformed % escape). Check the link and try again.' } as const;

/** Title and message for input holding control characters; `fields` are named in the message. */
export function controlCharacterMessage(fields: string[]): { title: string; message: string } {
  const named = fields.length ? ` (${fields.slice(0, 5).join(', ')})` : '';
  return { title: 'Characters not accepted', message: `What you sent contains control characters that are not accepted${named}. Remove them and try again.` };
}

/**
 * PostgreSQL's SQLSTATEs for text it cannot store: 22021 `character_not_in_repertoire` ("invalid byte
 * sequence for encoding UTF8: 0x00", a NUL in a text parameter) and 22P05 `untranslatable_character`
 * ("unsupported Unicode escape sequence", `\u0000` in jsonb). `pg` and PGlite report the same codes.
 */
const INVALID_TEXT_SQLSTATES = new Set(['22021', '22P05']);

/**
 * True when `error` (or an error in its `cause` chain, as drizzle wraps driver errors) is PostgreSQL refusing
 * text that holds NUL: the request was wrong, not the server, so it answers 400 rather than 500.
 */
export function isInvalidTextError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && INVALID_TEXT_SQLSTATES.has(code)) return true;
  }
  return false;
}
