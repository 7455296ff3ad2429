/**
 * POST /interaction/:uid/organization — the account chooses which of its organizations it acts for, after
 * both factors. The sign-in flow accepts only one of its memberships; the choice finishes the login and travels
 * as described in ../acting-organization.ts.
 */
import { z } from 'zod';
import type { InteractionDeps, StepHandler } from './context.js';
import { answer, bindingOf, stateOf } from './factor-step.js';

const organizationForm = z.object({ organizationId: z.string().min(1).max(100) });

/** Records the choice and finishes the login. */
export function chooseOrganization(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const input = organizationForm.safeParse(req.body ?? {});
    const result = await deps.identity.signIn.chooseOrganization(bindingOf(req, res), stateOf(res), input.success ? input.data.organizationId : '');
    await answer(deps, req, res, result);
  };
}
