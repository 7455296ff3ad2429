/**
 * The IdP's edge check of bad input (issue 9 §6). Mounted first on the site router, before our pages and
 * oidc-provider, it refuses a request whose path has malformed percent-encoding (`%FF`, `%zz`) or whose
 * decoded path or query holds NUL or another control character (lib/bad-input.ts): PostgreSQL cannot store
 * NUL, and no field of ours needs the others. Form bodies are checked as they are parsed (form-body.ts,
 * {@link formControlCharacterError}); oidc-provider reads its own bodies, and its adapter refuses NUL there
 * (storage/oidc-adapter.ts).
 *
 * Answers: on oidc-provider's back-channel endpoints (token, revocation, introspection, userinfo, PAR, JWKS,
 * discovery) `400 { error: 'invalid_request', error_description }` (RFC 6749 §5.2); everywhere else — our
 * pages, `/auth`, `/session/end` — a 400 error page.
 */
import type { Request, RequestHandler, Response } from 'express';
import { controlCharacterMessage, fieldsWithControlCharacters, MALFORMED_ADDRESS, urlProblem, validationError, type DomainError, type Logger } from '../lib/index.js';
import { sendPage } from './interactions/context.js';
import { loggedPath } from './logged-path.js';
import type { Provider } from './oidc.js';
import type { RenderPage } from './views.js';

/** oidc-provider routes called by clients rather than browsers: they answer JSON. */
const BACK_CHANNEL_ROUTES = ['token', 'revocation', 'introspection', 'userinfo', 'pushed_authorization_request', 'jwks', 'registration', 'backchannel_authentication', 'device_authorization', 'challenge', 'credential'];

/** Paths (relative to the issuer's path) of the back-channel routes `provider` has enabled. */
function backChannelPaths(provider: Provider): Set<string> {
  const paths = new Set<string>();
  for (const name of BACK_CHANNEL_ROUTES) {
    try {
      paths.add(provider.pathFor(name, { mountPath: '' }));
    } catch {
      // not enabled in this configuration
    }
  }
  return paths;
}

/** Creates the middleware; mount it before every other route of the IdP. */
export function rejectControlCharacters(deps: { render: RenderPage; provider: Provider; logger: Logger }): RequestHandler {
  const backChannel = backChannelPaths(deps.provider);
  const answer = async (req: Request, res: Response, reason: string, page: { title: string; message: string }) => {
    deps.logger.info({ status: 400, reason, path: loggedPath(req.path).slice(0, 200) }, 'request refused');
    if (backChannel.has(req.path) || req.path.startsWith('/.well-known/')) {
      res.status(400).set('Cache-Control', 'no-store').json({ error: 'invalid_request', error_description: page.message });
      return;
    }
    await sendPage(res, deps.render, 400, 'error', { ...page, errorId: null });
  };
  return (req, res, next) => {
    const problem = urlProblem(req.path, req.query);
    if (!problem) return next();
    const page = problem.kind === 'malformed_path' ? MALFORMED_ADDRESS : controlCharacterMessage(problem.fields);
    answer(req, res, problem.kind, page).catch(next);
  };
}

/**
 * The error for a parsed form body (`req.body`) holding control characters: a DomainError `validation_failed`
 * (400) naming each such field, shown by the error page; undefined when the body is fine.
 */
export function formControlCharacterError(body: unknown): DomainError | undefined {
  const fields = fieldsWithControlCharacters(body);
  if (!fields.length) return undefined;
  const { message } = controlCharacterMessage(fields);
  return validationError(Object.fromEntries(fields.map((f) => [f, ['This field contains control characters that are not accepted.']])), message);
}
