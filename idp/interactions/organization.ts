/**
 * POST /interaction/:uid/organization — the account chooses which of its organizations it acts for, after
 * both factors. The choice must be one of its memberships; it finishes the login and travels as described
 * in ../acting-organization.ts.
 */
import { z } from 'zod';
import { interactionOf, renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { finishLogin } from './finish.js';
import { MESSAGES, organizationPage, signInPage } from './pages.js';
import { readSignInState } from './state.js';

const organizationForm = z.object({ organizationId: z.string().min(1).max(100) });

/** Records the choice and finishes the login. */
export function chooseOrganization(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const interaction = interactionOf(res);
    const page = renderStep(deps, req, res);
    const state = readSignInState(interaction);
    if (state?.step !== 'second_factor_verified') return signInPage(page, 403, { message: MESSAGES.passwordFirst });
    const memberships = (await deps.identity.accounts.findAccount(state.accountId))?.memberships ?? [];
    const input = organizationForm.safeParse(req.body ?? {});
    const chosen = input.success ? memberships.find((m) => m.organizationId === input.data.organizationId) : undefined;
    if (!chosen) return organizationPage(page, 400, memberships, { organizationId: [MESSAGES.chooseOrganization] });
    return finishLogin(deps, req, res, { accountId: state.accountId, amr: state.amr, organizationId: chosen.organizationId });
  };
}
