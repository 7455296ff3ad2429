/**
 * Loads the interaction of `/interaction/:uid…` from its cookie. A missing, expired, finished or other
 * interaction (bookmarked, replayed or stale URL, GET or POST) never shows an error: the browser restarts
 * the sign-in at the client's `initiate_login_uri`, or at the IdP home page when the client is unknown.
 */
import type { NextFunction, Request, Response } from 'express';
import { oidcErrors, type Provider } from '../oidc.js';
import type { RestartUrl } from '../restart.js';

/** Redirects (303) to where a stale sign-in restarts: the client is the URL's interaction's, or the URL's `client_id` hint. */
export async function restart(provider: Provider, restartUrl: RestartUrl, req: Request, res: Response): Promise<void> {
  const uid = String(req.params.uid ?? '');
  const known = uid ? await provider.Interaction.find(uid) : undefined;
  res.set('Cache-Control', 'no-store').redirect(303, await restartUrl(provider, known?.params.client_id ?? req.query.client_id));
}

/** Middleware: puts the interaction in `res.locals.interaction`, or restarts the sign-in. */
export function loadInteraction(provider: Provider, restartUrl: RestartUrl) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const interaction = await provider.interactionDetails(req, res);
      if (interaction.uid !== req.params.uid) return restart(provider, restartUrl, req, res);
      res.locals.interaction = interaction;
    } catch (error) {
      if (error instanceof oidcErrors.SessionNotFound) return restart(provider, restartUrl, req, res);
      throw error;
    }
    next();
  };
}
