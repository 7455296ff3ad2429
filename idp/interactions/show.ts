/**
 * GET /interaction/:uid — shows the page of the step the interaction is at (consent, or the sign-in flow's
 * step: sign-in, a factor's page, registration prompt or page, organization choice). Reloading a page shows the
 * same step again.
 */
import { interactionOf, renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { consentPage } from './consent.js';
import { bindingOf, showView, stateOf } from './factor-step.js';

/** Renders the current step. */
export function showInteraction(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    if (interaction.prompt.name === 'consent') return consentPage(deps, page, interaction);
    return showView(deps, page, 200, await deps.identity.signIn.view(bindingOf(req, res), stateOf(res)));
  };
}
