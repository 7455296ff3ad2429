/**
 * Where one sign-in stands, and what the sign-in flow (./sign-in-flow.ts) answers. The state is plain JSON:
 * idp/ persists it on oidc-provider's Interaction (idp/interactions/state.ts), so any instance serves the next
 * request, and parses it back with {@link signInStateSchema} (a malformed or foreign value reads as no state).
 */
import { z } from 'zod';
import type { MembershipWithOrganization } from '../model.js';
import type { FactorChallenge, FactorId } from '../factors/strategy.js';

const challenge = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
const amr = z.array(z.string());
const enrolled = z.object({ passkeys: z.number().int().min(0), confirmedApp: z.boolean() });

/** The zod schema of {@link SignInState}. */
export const signInStateSchema = z.discriminatedUnion('step', [
  // A first step identified the account; second factor `factor` is asked (begun: `challenge`). `alternatives`:
  // the other factors the person may switch to ("Email me a code instead"). `enrolled`: the account's registered
  // factors as the first step read them with the account, for the registration prompts after the second factor.
  z.object({ step: z.literal('factor'), accountId: z.string(), amr, factor: z.string(), challenge, alternatives: z.array(z.string()), enrolled: enrolled.optional() }),
  // Both factors passed; factor `factor` asks to be registered ("Register device" / "Skip this step"): a
  // re-registration campaign (`campaignId`) or the plain offer (null). `enrolling`: its registration page is shown.
  z.object({
    step: z.literal('enrollment'), accountId: z.string(), amr, acr: z.string().optional(), factor: z.string(),
    campaignId: z.string().nullable(), skipAllowed: z.boolean(), enrolling: z.boolean(),
  }),
  // Both factors passed (and any prompt answered); the acting organization is to be chosen.
  z.object({ step: z.literal('organization'), accountId: z.string(), amr, acr: z.string().optional() }),
]);

/** Where a sign-in stands after its first step (before it, there is no state). */
export type SignInState = z.infer<typeof signInStateSchema>;

/** A finished sign-in: the account, its RFC 8176 `amr`, its `acr` when a factor raised it, the acting organization. */
export interface CompletedSignIn {
  accountId: string;
  amr: string[];
  acr?: string;
  organizationId: string | undefined;
}

/**
 * Why a submission was refused; the page decides the words.
 * - `out_of_step`: the state does not allow it (no first step yet, another factor asked, nothing to enroll).
 * - `invalid`: wrong password or code, or a choice not offered (generic: never says which part was wrong).
 * - `expired`: the challenge is too old (emailed code; an enrollment, begun again: see `state`).
 * - `locked`: the account is locked (the password step says so only after the right password).
 * - `rate_limited`: asked again too soon (`message` says how long to wait).
 * - `forbidden`: not allowed by policy (the emailed code for an account that must use its app; a skip past the deadline).
 */
export type SignInRefusal = 'out_of_step' | 'invalid' | 'expired' | 'locked' | 'rate_limited' | 'forbidden';

/**
 * The flow's answer to a submission. `next`: persist `state` and show the step page; `done`: finish the
 * interaction with `login`; `refused`: show `view` (the page of the step the sign-in is at, or the sign-in page
 * for `out_of_step`) with the refusal (`message` for `rate_limited` and `forbidden`; `state` when the refusal
 * changed it).
 */
export type SignInResult =
  | { outcome: 'next'; state: SignInState }
  | { outcome: 'done'; login: CompletedSignIn }
  | { outcome: 'refused'; reason: SignInRefusal; view: SignInStepView; state?: SignInState; message?: string };

/**
 * What the step page of a state shows (GET, and a page shown again after a refusal).
 * - `first`: the sign-in page, with each first-step factor and what its `begin` returned (passkey request options).
 * - `factor`: the asked second factor's page; `status` is its `describe()` (the emailed code's delivery).
 * - `enrollment`: the registration prompt of `factor`, or (`setup` not null) its registration page.
 * - `organization`: the choice of the acting organization.
 */
export type SignInStepView =
  | { step: 'first'; factors: { id: FactorId; challenge: FactorChallenge }[] }
  | { step: 'factor'; factor: FactorId; alternatives: FactorId[]; status: unknown }
  | { step: 'enrollment'; factor: FactorId; campaign: boolean; skipAllowed: boolean; setup: unknown }
  | { step: 'organization'; memberships: MembershipWithOrganization[] };
