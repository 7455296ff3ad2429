/**
 * What the password recovery pages share: their dependencies and page rendering with a CSRF token and
 * `Cache-Control: no-store` (the reset page's URL holds a secret).
 */
import type { Request, Response } from 'express';
import type { Identity } from '../../identity/index.js';
import type { Csrf } from '../csrf.js';
import { sendPage } from '../interactions/context.js';
import type { PageChrome, RenderPage } from '../views.js';

/** Dependencies of the recovery handlers. */
export interface RecoveryPageDeps {
  identity: Identity;
  render: RenderPage;
  csrf: Csrf;
  /** The IdP's public URL (config.issuer, no trailing slash): the base of the emailed link. */
  issuer: string;
  basePath: string;
  /** Validity of a reset link, in seconds, as the pages describe it. */
  ttlSeconds: number;
}

/** An Express handler of a recovery page. */
export type RecoveryHandler = (req: Request, res: Response) => Promise<void>;

/** Renders a recovery page with a fresh CSRF token. */
export function renderRecoveryPage(deps: RecoveryPageDeps, req: Request, res: Response) {
  return (status: number, name: string, model: PageChrome & Record<string, unknown>): Promise<void> =>
    sendPage(res, deps.render, status, name, { ...model, csrfToken: deps.csrf.token(req, res) });
}
