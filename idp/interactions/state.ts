/**
 * The progress of one sign-in (identity's `SignInState`, decided by its sign-in flow), persisted on
 * oidc-provider's Interaction (so in PostgreSQL through the adapter, like the interaction itself): which account
 * passed the first step, which factor is asked and what its begin remembered, what the registration prompt
 * asks, whether the organization is still to be chosen. Any instance can serve the next step. The state lives
 * under our own key of `interaction.result`, which finishing the login (finish.ts) replaces with the final login
 * result; it expires with the interaction.
 */
import { signInStateSchema, type SignInState } from '../../identity/index.js';
import type { OidcInteraction } from '../oidc.js';

const STATE_KEY = 'urn:connect-iam:sign_in';

export type { SignInState };

/** The persisted state, or undefined before a first step passed (or when the value is not a state). */
export function readSignInState(interaction: OidcInteraction): SignInState | undefined {
  const parsed = signInStateSchema.safeParse(interaction.result?.[STATE_KEY]);
  return parsed.success ? parsed.data : undefined;
}

/** Persists `state` on the interaction, keeping its remaining lifetime. */
export async function saveSignInState(interaction: OidcInteraction, state: SignInState): Promise<void> {
  interaction.result = { ...interaction.result, [STATE_KEY]: state };
  await interaction.persist();
}
