/**
 * Consent for clients that are not first-party: GET shows what the client asks for; POST
 * /interaction/:uid/consent grants it (Allow) or ends the request with `access_denied` (Cancel).
 */
import type { Response } from 'express';
import { z } from 'zod';
import { grantMissing } from '../grants.js';
import type { OidcInteraction } from '../oidc.js';
import { interactionOf, urlsOf, type InteractionDeps, type StepHandler } from './context.js';
import { describeConsent, type StepPage } from './pages.js';

const consentForm = z.object({ decision: z.enum(['allow', 'cancel']) });

/** The consent page of `interaction`. */
export async function consentPage(deps: InteractionDeps, page: StepPage, interaction: OidcInteraction, status = 200): Promise<void> {
  const client = await deps.provider.Client.find(String(interaction.params.client_id));
  const clientName = client?.clientName ?? client?.clientId ?? 'An application';
  return page(status, 'consent', { title: 'Allow access?', clientName, requested: describeConsent(interaction.prompt.details) });
}

/** Records the decision. */
export function submitConsent(deps: InteractionDeps): StepHandler {
  return async (req, res: Response) => {
    const interaction = interactionOf(res);
    const { provider } = deps;
    const input = consentForm.safeParse(req.body ?? {});
    if (interaction.prompt.name !== 'consent' || !input.success || !interaction.session) return res.redirect(303, urlsOf(deps, interaction).show);
    if (input.data.decision === 'cancel') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The End-User did not allow access.' }, { mergeWithLastSubmission: false });
    }
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId: interaction.session.accountId, clientId: String(interaction.params.client_id) });
    grantMissing(grant, interaction.prompt.details);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };
}
