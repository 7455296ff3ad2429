/**
 * CSRF protection of the interaction forms: csrf-csrf's signed double-submit cookie, bound to the
 * interaction uid (the token of one sign-in is refused by another) and keyed by the cookie keys from config
 * (all verify, the first signs). The cookie is scoped to the interaction's path, so two sign-ins in two tabs
 * do not overwrite each other's token.
 */
import { createHmac } from 'node:crypto';
import { doubleCsrf } from 'csrf-csrf';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../lib/index.js';

/** Issues and checks CSRF tokens. */
export interface Csrf {
  /** The token to put in the form's `_csrf` field; sets (or reuses) its cookie. */
  token(req: Request, res: Response): string;
  /** Middleware: passes a DomainError `forbidden` (403) when the `_csrf` field and the cookie do not match. */
  verify(req: Request, res: Response, next: NextFunction): void;
}

/**
 * @param cookieKeys - config.cookieKeys; each derives one HMAC secret.
 * @param secure - true when the issuer is https: the cookie is `Secure` and `__Secure-` prefixed.
 * @param interactionPath - maps an interaction uid to the path its cookie is scoped to.
 */
export function createCsrf(cookieKeys: string[], secure: boolean, interactionPath: (uid: string) => string): Csrf {
  const secrets = cookieKeys.map((key) => createHmac('sha256', key).update('connect-iam csrf').digest('hex'));
  const uidOf = (req: Request) => String(req.params.uid ?? '');
  const { generateCsrfToken, validateRequest } = doubleCsrf({
    getSecret: () => secrets,
    getSessionIdentifier: uidOf,
    cookieName: `${secure ? '__Secure-' : ''}connect-iam.csrf`,
    cookieOptions: { sameSite: 'strict', secure, httpOnly: true },
    getCsrfTokenFromRequest: (req) => (typeof req.body?._csrf === 'string' ? req.body._csrf : undefined),
  });
  return {
    token: (req, res) => generateCsrfToken(req, res, { cookieOptions: { path: interactionPath(uidOf(req)) } }),
    verify(req, _res, next) {
      if (validateRequest(req)) return next();
      next(new DomainError('forbidden', 'This form has expired or was not sent from this sign-in page. Go back, reload the page and try again.'));
    },
  };
}
