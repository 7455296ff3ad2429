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

/** The signed-in account and its IdP session uid, as `res.locals.account`. */
export interface AccountSession {
  accountId: string;
  sessionUid: string;
}

/** oidc-provider's Session model: `get` reads the session cookie of a plain `{ req, res }`. */
type SessionModel = { get(ctx: { req: Request; res: Response }): Promise<{ accountId?: string; uid: string }> };

/** The signed-in account of this browser, or null (no session, signed out, expired). */
export async function findAccountSession(provider: Provider, req: Request, res: Response): Promise<AccountSession | null> {
  const session = await (provider as unknown as { Session: SessionModel }).Session.get({ req, res });
  return session.accountId ? { accountId: session.accountId, sessionUid: session.uid } : null;
}

/** The session put in `res.locals` by {@link requireAccountSession}. */
export function accountSessionOf(res: Response): AccountSession {
  return res.locals.accountSession as AccountSession;
}

/** Middleware: sets `res.locals.accountSession` when signed in and the account is active; otherwise calls `signedOut`. */
export function requireAccountSession(provider: Provider, identity: Identity, signedOut: (req: Request, res: Response) => Promise<void>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const session = await findAccountSession(provider, req, res);
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
