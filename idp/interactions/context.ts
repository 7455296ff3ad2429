/**
 * What every interaction step shares: its dependencies, the loaded interaction, page rendering with the
 * CSRF token and `Cache-Control: no-store`, and the URLs of the steps.
 */
import type { Request, Response } from 'express';
import type { Identity, SignInThrottle } from '../../identity/index.js';
import type { Csrf } from '../csrf.js';
import type { FactorPages } from './factor-step.js';
import { stepUrls } from '../interaction-urls.js';
import type { OidcInteraction, Provider } from '../oidc.js';
import type { RestartUrl } from '../restart.js';
import type { PageChrome, RenderPage } from '../views.js';

/** Dependencies of the interaction handlers. */
export interface InteractionDeps {
  identity: Identity;
  provider: Provider;
  render: RenderPage;
  csrf: Csrf;
  restartUrl: RestartUrl;
  basePath: string;
  /** Per-IP and per-interaction limits of the password and code steps (interactions/throttle.ts). */
  throttle: SignInThrottle;
  /** Every factor's pages (./factor-pages.ts), put in by the router. */
  factorPages: readonly FactorPages[];
}

/** An Express handler of one step; `res.locals.interaction` is loaded and its CSRF token checked. */
export type StepHandler = (req: Request, res: Response) => Promise<void>;

/** The interaction loaded by `loadInteraction`. */
export function interactionOf(res: Response): OidcInteraction {
  return res.locals.interaction as OidcInteraction;
}

/** URLs of the steps of `interaction`. */
export function urlsOf(deps: InteractionDeps, interaction: OidcInteraction) {
  return stepUrls(deps.basePath, interaction.uid, interaction.params.client_id);
}

/** Sends an HTML page that must not be cached (it may hold a CSRF token or personal data). */
export async function sendPage(res: Response, render: RenderPage, status: number, name: string, model: PageChrome & Record<string, unknown>): Promise<void> {
  const html = await render(name, model);
  res.status(status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).type('html').send(html);
}

/** Renders a step page of the loaded interaction, with its URLs and a CSRF token bound to it. */
export function renderStep(deps: InteractionDeps, req: Request, res: Response) {
  return (status: number, name: string, model: PageChrome & Record<string, unknown>): Promise<void> => {
    const urls = urlsOf(deps, interactionOf(res));
    return sendPage(res, deps.render, status, name, { ...model, urls, csrfToken: deps.csrf.token(req, res) });
  };
}
