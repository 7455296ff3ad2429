/**
 * The progress of one sign-in, persisted on oidc-provider's Interaction (so in PostgreSQL through the
 * adapter, like the interaction itself): which account passed the password step, where its code went, and
 * whether the second factor passed. Any instance can serve the next step. The state lives under our own key
 * of `interaction.result`, which `interactionFinished(…, { mergeWithLastSubmission: false })` replaces with
 * the final login result; it expires with the interaction.
 */
import { z } from 'zod';
import type { OidcInteraction } from '../oidc.js';

const STATE_KEY = 'urn:connect-iam:sign_in';

const signInState = z.discriminatedUnion('step', [
  // factor: which second factor the code page asks for (`app`: authenticator app, `email`: emailed code).
  z.object({ step: z.literal('password_verified'), accountId: z.string(), sentTo: z.string(), factor: z.enum(['app', 'email']).default('email') }),
  z.object({ step: z.literal('second_factor_verified'), accountId: z.string(), sentTo: z.string(), amr: z.array(z.string()) }),
  // After the second factor: "Register device" / "Skip this step" (campaignId null: the plain offer); registering: the QR page.
  z.object({
    step: z.literal('registration_offered'), accountId: z.string(), sentTo: z.string(), amr: z.array(z.string()),
    campaignId: z.string().nullable(), skipAllowed: z.boolean(), registering: z.boolean(),
  }),
]);

/** Where a sign-in stands. */
export type SignInState = z.input<typeof signInState>;

/** The persisted state, or undefined before the password step passed. */
export function readSignInState(interaction: OidcInteraction): SignInState | undefined {
  const parsed = signInState.safeParse(interaction.result?.[STATE_KEY]);
  return parsed.success ? parsed.data : undefined;
}

/** Persists `state` on the interaction, keeping its remaining lifetime. */
export async function saveSignInState(interaction: OidcInteraction, state: SignInState): Promise<void> {
  interaction.result = { ...interaction.result, [STATE_KEY]: state };
  await interaction.persist();
}
