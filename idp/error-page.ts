/**
 * The Express error handler of our pages. Never a stack trace: a DomainError shows its safe message with its
 * status; a malformed request (oversized or unreadable body, too many fields, unsupported charset or
 * encoding, malformed percent-encoding: lib/bad-input.ts) its 4xx; a sign-in whose interaction vanished mid-step
 * restarts; anything else a generic 500 page with an error id that is logged with the cause.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { badRequestOf, controlCharacterMessage, DomainError, isInvalidTextError, isUnavailable, randomToken, type Logger } from '../lib/index.js';
import { FORM_BODY_LIMIT } from './form-body.js';
import { loggedPath } from './logged-path.js';
import { restart } from './interactions/load.js';
import { sendPage } from './interactions/context.js';
import { oidcErrors, type Provider } from './oidc.js';
import type { RestartUrl } from './restart.js';
import { RETRY_AFTER_SECONDS, UNAVAILABLE_PAGE } from './unavailable.js';
import type { RenderPage } from './views.js';

/** body-parser's errors carry `type` and `status`. */
interface BodyParserError {
  type?: string;
  status?: number;
}

/** Status, title and message of `error` as the person may see them. */
function describe(error: unknown): { status: number; title: string; message: string } | undefined {
  const bad = badRequestOf(error);
  if (bad?.reason === 'entity.too.large') {
    return { status: 413, title: 'Form too large', message: `What you sent is larger than this form accepts (${FORM_BODY_LIMIT.replace('kb', ' kB')}). Go back, shorten what you typed and try again.` };
  }
  if (bad) return { status: bad.status, title: bad.title, message: bad.message };
  if (isInvalidTextError(error)) return { status: 400, ...controlCharacterMessage([]) };
  if (isUnavailable(error)) {
    return { status: 503, ...UNAVAILABLE_PAGE };
  }
  if (error instanceof DomainError && error.expose) {
    return { status: error.status, title: error.status === 403 ? 'Request refused' : 'This cannot be done', message: error.message };
  }
  return undefined;
}

/** Creates the handler; mount it after every route of the IdP's own pages. */
export function errorPage(deps: { render: RenderPage; logger: Logger; provider: Provider; restartUrl: RestartUrl }): ErrorRequestHandler {
  const { render, logger, provider, restartUrl } = deps;
  return async (error: unknown, req: Request, res: Response, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof oidcErrors.SessionNotFound) return restart(provider, restartUrl, req, res);
    const errorId = randomToken(9);
    const known = describe(error);
    const backHref = /\/interaction\//.test(req.originalUrl) ? req.originalUrl.replace(/^(.*\/interaction\/[^/?]+)[^?]*/, '$1') : undefined; // the step page
    if (known) {
      const details = { errorId, status: known.status, path: loggedPath(req.path), code: (error as DomainError).code ?? (error as BodyParserError).type };
      if (known.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      if (known.status >= 500) logger.error({ ...details, err: error }, 'request failed');
      else logger.info(details, 'request refused');
      return sendPage(res, render, known.status, 'error', { ...known, errorId: known.status >= 500 ? errorId : null, backHref });
    }
    logger.error({ err: error, errorId, path: loggedPath(req.path) }, 'request failed');
    return sendPage(res, render, 500, 'error', { title: 'Something went wrong', message: 'Something went wrong on our side. Please try again in a moment.', errorId, backHref });
  };
}
