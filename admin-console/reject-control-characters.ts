/**
 * The console's edge check of bad input (issue 9 §6), in two places: before any route, a path with malformed
 * percent-encoding or a path or query holding NUL or another control character (lib/bad-input.ts) gets a 400
 * page; right after the form body is parsed, so does a body field holding one — before the CSRF check, any
 * handler or the database (PostgreSQL cannot store NUL). Tab, CR and LF stay allowed (textareas send them).
 */
import type { RequestHandler, Response } from 'express';
import { controlCharacterMessage, fieldsWithControlCharacters, MALFORMED_ADDRESS, urlProblem } from '../lib/index.js';

function refuse(res: Response, page: { title: string; message: string }): void {
  res.status(400).render('error', page);
}

/** Mount first: refuses a malformed or control-character path or query. */
export function rejectControlCharactersInUrl(): RequestHandler {
  return (req, res, next) => {
    const problem = urlProblem(req.path, req.query);
    if (!problem) return next();
    refuse(res, problem.kind === 'malformed_path' ? MALFORMED_ADDRESS : controlCharacterMessage(problem.fields));
  };
}

/** Mount right after the body parser: refuses a form whose fields (names or values) hold control characters. */
export function rejectControlCharactersInBody(): RequestHandler {
  return (req, res, next) => {
    const fields = fieldsWithControlCharacters(req.body);
    if (!fields.length) return next();
    refuse(res, controlCharacterMessage(fields));
  };
}
