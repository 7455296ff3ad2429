/**
 * The body parser of every IdP form: URL-encoded, at most {@link FORM_BODY_LIMIT} and 20 fields, so an
 * oversized submission (a 1 MB "password") is refused with 413 before any handler or argon2 runs
 * (design/security.md §11).
 */
import express from 'express';
import { formControlCharacterError } from './reject-control-characters.js';

/** Largest form body accepted. */
export const FORM_BODY_LIMIT = '10kb';

/**
 * A fresh body-parser middleware for IdP forms. A body holding NUL or another control character in any field
 * is refused right after parsing, before CSRF checks, handlers or the database (reject-control-characters.ts).
 */
export function formBody(): express.RequestHandler {
  const parse = express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 20 });
  return (req, res, next) => parse(req, res, (error?: unknown) => next(error ?? formControlCharacterError(req.body)));
}
