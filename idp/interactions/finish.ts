/**
 * Ending the login interaction: after both factors, either the acting organization is clear (one membership
 * or none) and the login finishes, or the organization page comes next.
 */
import type { Request, Response } from 'express';
import { ACTING_ORGANIZATION_RESULT } from '../acting-organization.js';
import { interactionOf, urlsOf, type InteractionDeps } from './context.js';
import { saveSignInState, type SignInState } from './state.js';

/** What a finished login carries: the account, its RFC 8176 `amr` and the acting organization. */
export interface LoginResult {
  accountId: string;
  amr: string[];
  organizationId: string | undefined;
}

/**
 * Finishes the interaction and redirects (303) to the authorization endpoint to resume, as oidc-provider's
 * `interactionFinished(…, { mergeWithLastSubmission: false })` does, but on the interaction this request already
 * loaded (and checked against its cookie) instead of loading it again: one round trip fewer.
 */
export async function finishLogin(_deps: InteractionDeps, _req: Request, res: Response, login: LoginResult): Promise<void> {
  const interaction = interactionOf(res);
  interaction.result = { login: { accountId: login.accountId, amr: login.amr }, [ACTING_ORGANIZATION_RESULT]: login.organizationId };
  await interaction.persist();
  res.status(303).set({ Location: interaction.returnTo, 'Content-Length': '0' }).end();
}

/**
 * After the second factor: when a re-registration campaign (or the registration offer) asks this account,
 * persists the progress and shows "Register device" / "Skip this step"; otherwise continues.
 */
export async function completeSecondFactor(deps: InteractionDeps, req: Request, res: Response, state: SignInState, amr: string[]): Promise<void> {
  const prompt = await deps.identity.campaigns.registrationPrompt(state.accountId);
  if (!prompt) return continueAfterSecondFactor(deps, req, res, state, amr);
  const interaction = interactionOf(res);
  await saveSignInState(interaction, { step: 'registration_offered', accountId: state.accountId, sentTo: state.sentTo, amr, campaignId: prompt.campaignId, skipAllowed: prompt.skipAllowed, registering: false });
  res.redirect(303, urlsOf(deps, interaction).show);
}

/** After the second factor (and any registration prompt): finishes, or persists the progress and shows the organization choice. */
export async function continueAfterSecondFactor(deps: InteractionDeps, req: Request, res: Response, state: SignInState, amr: string[]): Promise<void> {
  const view = await deps.identity.accounts.findAccount(state.accountId);
  const memberships = view?.memberships ?? [];
  if (memberships.length <= 1) return finishLogin(deps, req, res, { accountId: state.accountId, amr, organizationId: memberships[0]?.organizationId });
  const interaction = interactionOf(res);
  await saveSignInState(interaction, { step: 'second_factor_verified', accountId: state.accountId, sentTo: state.sentTo, amr });
  res.redirect(303, urlsOf(deps, interaction).show);
}
