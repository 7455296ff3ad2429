/**
 * Ending the login interaction once identity's sign-in flow says it is done: the account, its RFC 8176 `amr`,
 * its `acr` when a factor raised it (OIDC Core §2; e.g. `phr`) and the acting organization go into the login
 * result, which oidc-provider stores on the session (the `amr` and `acr` claims of the ID token).
 */
import type { Request, Response } from 'express';
import type { CompletedSignIn } from '../../identity/index.js';
import { ACTING_ORGANIZATION_RESULT } from '../acting-organization.js';
import { interactionOf, type InteractionDeps } from './context.js';

/**
 * Finishes the interaction and redirects (303) to the authorization endpoint to resume, as oidc-provider's
 * `interactionFinished(…, { mergeWithLastSubmission: false })` does, but on the interaction this request already
 * loaded (and checked against its cookie) instead of loading it again: one round trip fewer.
 */
export async function finishLogin(_deps: InteractionDeps, _req: Request, res: Response, login: CompletedSignIn): Promise<void> {
  const interaction = interactionOf(res);
  const result = { accountId: login.accountId, amr: login.amr, ...(login.acr ? { acr: login.acr } : {}) };
  interaction.result = { login: result, [ACTING_ORGANIZATION_RESULT]: login.organizationId };
  await interaction.persist();
  res.status(303).set({ Location: interaction.returnTo, 'Content-Length': '0' }).end();
}
