/**
 * Form bodies (`application/x-www-form-urlencoded`) for the adapter's POST routes, read with Express's own
 * parser but answered by the adapter when they cannot be read, so that a bad body never reaches the
 * application's error handler (which would answer 500): too large (over `limit`, or more than
 * `parameterLimit` fields) → 413, anything else unreadable (unsupported charset or `Content-Encoding`,
 * a truncated body) → 400. Both answer JSON `{ error: 'invalid_request', error_description }`, `no-store`.
 */
import express, { type RequestHandler } from 'express';

/** What the parser accepts: body size as body-parser reads it (`'16kb'`) and the most fields. */
export interface FormBodyLimits {
  limit: string;
  parameterLimit: number;
}

/** An error of body-parser (http-errors): its HTTP status and stable `type`. */
interface BodyParserError {
  status?: number;
  type?: string;
}

/** The form-body parser for one route. A body that is not a form leaves `req.body` undefined. */
export function formBody(limits: FormBodyLimits): RequestHandler {
  const parse = express.urlencoded({ extended: false, limit: limits.limit, parameterLimit: limits.parameterLimit });
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const tooLarge = (err as BodyParserError).status === 413;
      res.status(tooLarge ? 413 : 400).set('Cache-Control', 'no-store').json({
        error: 'invalid_request',
        error_description: tooLarge ? 'the request body is too large' : 'the request body could not be read',
      });
    });
  };
}
