/**
 * Who is signed in at the IdP, for the account page: read from oidc-provider's own session (its signed
 * `_session` cookie and the Session model in PostgreSQL) — the same session that gives single sign-on to the
 * portals, so the account page needs no sign-in of its own. Also the account page's CSRF protection
 * (csrf-csrf's signed double-submit cookie bound to the session uid, scoped to `/account`).
 */
import { createHmac } from 'node:crypto';
import { doubleCsrf } from 'csrf-csrf';
import type { NextFunction, Request, Response } from 'express';
import type { Identity } from '../../identity/index.js';
import { DomainError } from '../../lib/index.js';
import type { Provider } from '../oidc.js';

/** The signed-in account and its IdP session, as `res.locals.accountSession`. */
export interface AccountSession {
  accountId: string;
  /** The session's `uid` (stable for the session's life; not its id, which is a bearer secret). */
  sessionUid: string;
  /** When the person last signed in (both factors) in this session, seconds since the epoch. */
  loginTs: number;
}

/** oidc-provider's Session model: `get` reads the session cookie of a plain `{ req, res }`. */
type SessionModel = { get(ctx: { req: Request; res: Response }): Promise<{ accountId?: string; uid: string; loginTs?: number }> };

/**
 * The signed-in account of this browser, or null (no session, signed out, expired, or signed in more than
 * `maxAgeSeconds` ago: the session's absolute lifetime, see ../session-lifetime.ts).
 */
export async function findAccountSession(provider: Provider, req: Request, res: Response, maxAgeSeconds: number): Promise<AccountSession | null> {
  const session = await (provider as unknown as { Session: SessionModel }).Session.get({ req, res });
  if (!session.accountId || typeof session.loginTs !== 'number') return null;
  if (Math.floor(Date.now() / 1000) - session.loginTs > maxAgeSeconds) return null;
  return { accountId: session.accountId, sessionUid: session.uid, loginTs: session.loginTs };
}

/** The session put in `res.locals` by {@link requireAccountSession}. */
export function accountSessionOf(res: Response): AccountSession {
  return res.locals.accountSession as AccountSession;
}

/**
 * Middleware: sets `res.locals.accountSession` when signed in (within the session's absolute lifetime
 * `maxAgeSeconds`) and the account is active; otherwise calls `signedOut`.
 */
export function requireAccountSession(provider: Provider, identity: Identity, maxAgeSeconds: number, signedOut: (req: Request, res: Response) => Promise<void>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const session = await findAccountSession(provider, req, res, maxAgeSeconds);
    const view = session ? await identity.accounts.findAccount(session.accountId) : null;
    if (!session || view?.account.status !== 'active') return signedOut(req, res);
    res.locals.accountSession = session;
    next();
  };
}

/** CSRF tokens of the account page forms. */
export function createAccountCsrf(cookieKeys: string[], secure: boolean, path: string) {
  const secrets = cookieKeys.map((key) => createHmac('sha256', key).update('connect-iam account csrf').digest('hex'));
  const { generateCsrfToken, validateRequest } = doubleCsrf({
    getSecret: () => secrets,
    getSessionIdentifier: (req) => (req.res?.locals.accountSession as AccountSession | undefined)?.sessionUid ?? '',
    cookieName: `${secure ? '__Secure-' : ''}connect-iam.account-csrf`,
    cookieOptions: { sameSite: 'strict', secure, httpOnly: true, path },
    getCsrfTokenFromRequest: (req) => (typeof req.body?._csrf === 'string' ? req.body._csrf : undefined),
  });
  return {
    token: (req: Request, res: Response) => generateCsrfToken(req, res),
    verify(req: Request, _res: Response, next: NextFunction) {
      if (validateRequest(req)) return next();
      next(new DomainError('forbidden', 'This form has expired. Go back to your account page, reload it and try again.'));
    },
  };
}
