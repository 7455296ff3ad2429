/**
 * The demo portals' edge check of bad input (issue 9 §6): mounted before portal-adapters' router, it answers a
 * path with malformed percent-encoding, or a path or query holding NUL or another control character
 * (lib/bad-input.ts), with a 400 page. Bodies are parsed inside portal-adapters' routes, which refuse them.
 */
import type { RequestHandler } from 'express';
import { controlCharacterMessage, MALFORMED_ADDRESS, urlProblem } from '../../lib/index.js';

/** Creates the middleware; mount it before every route. */
export function rejectControlCharactersInUrl(): RequestHandler {
  return (req, res, next) => {
    const problem = urlProblem(req.path, req.query);
    if (!problem) return next();
    res.status(400).render('error', problem.kind === 'malformed_path' ? MALFORMED_ADDRESS : controlCharacterMessage(problem.fields));
  };
}
