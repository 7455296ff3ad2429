/**
 * How a factor's pages plug into the interactions: each factor has one {@link FactorPages} (its POST routes, its
 * step page, its registration pages, its part of the sign-in page), listed once in ./factor-pages.ts. The pages
 * validate what the person typed (zod), forward it to identity's sign-in flow, and show what the flow answers
 * ({@link answer}); they decide nothing about the next step.
 */
import type { Request, Response } from 'express';
import type { FactorBinding, FactorChallenge, FactorId, SignInRefusal, SignInResult, SignInStepView } from '../../identity/index.js';
import { interactionOf, renderStep, urlsOf, type InteractionDeps, type StepHandler } from './context.js';
import { finishLogin } from './finish.js';
import { requestedAcrValues } from './passkey-acr.js';
import { lockedPage, MESSAGES, organizationPage, signInPage, type FirstStepPart, type StepPage } from './pages.js';
import { readSignInState, saveSignInState } from './state.js';

/** What a page shows besides its view: a message and field errors. */
export interface FormModel {
  message?: string;
  messageKind?: 'error' | 'info';
  fieldErrors?: Record<string, string[]>;
}

/** The view of a `factor` step, and of an `enrollment` step. */
export type FactorStepView = Extract<SignInStepView, { step: 'factor' }>;
export type EnrollmentStepView = Extract<SignInStepView, { step: 'enrollment' }>;

/** One POST route of a factor, under `/interaction/:uid`. `attempt`: counted by the sign-in rate limits first (throttle.ts). */
export interface FactorRoute {
  path: string;
  attempt: boolean;
  handler(deps: InteractionDeps): StepHandler;
}

/** A factor's pages. */
export interface FactorPages {
  /** The factor's id (identity's `FactorStrategy.id`). */
  factor: FactorId;
  /** Its POST routes, added by router.ts. */
  routes: FactorRoute[];
  /** Its step page as a second factor (`view.step` is `factor`). */
  showStep?(deps: InteractionDeps, page: StepPage, status: number, view: FactorStepView, form: FormModel): Promise<void>;
  /** Its registration prompt, and its registration page when `view.setup` is set (`view.step` is `enrollment`). */
  showEnrollment?(deps: InteractionDeps, page: StepPage, status: number, view: EnrollmentStepView, form: FormModel): Promise<void>;
  /** Its part of the sign-in page as a first step: an EJS partial (idp/views/) and its model, from what `begin` returned. */
  firstStep?(challenge: FactorChallenge): FirstStepPart;
  /**
   * The words of this factor's refusals, by the page they are shown on (`first`: the sign-in page after its
   * first step; `factor`: its step page; `enrollment`: its registration pages). The flow's own `message` wins.
   */
  messages?: Partial<Record<SignInStepView['step'], Partial<Record<SignInRefusal, string>>>>;
}

/** The interaction and client a step works for (identity's `FactorBinding`). */
export function bindingOf(req: Request, res: Response): FactorBinding {
  const interaction = interactionOf(res);
  return { bindingId: interaction.uid, context: { ip: req.ip, clientId: String(interaction.params.client_id) }, acrValues: requestedAcrValues(interaction.params) };
}

/** The status a refusal is shown with (RFC 9110 §15). */
function statusOf(reason: SignInRefusal, view: SignInStepView): number {
  if (reason === 'invalid') return view.step === 'organization' ? 400 : 401;
  if (reason === 'expired') return view.step === 'enrollment' ? 409 : 401;
  return reason === 'rate_limited' ? 429 : 403;
}

/**
 * Shows `view`: the sign-in page, a factor's step or registration page (through its {@link FactorPages}), or the
 * organization choice. `form.login` refills the sign-in page.
 */
export async function showView(deps: InteractionDeps, page: StepPage, status: number, view: SignInStepView, form: FormModel & { login?: string } = {}): Promise<void> {
  if (view.step === 'first') {
    const firstSteps = view.factors.flatMap(({ id, challenge }) => deps.factorPages.find((p) => p.factor === id)?.firstStep?.(challenge) ?? []);
    return signInPage(page, status, { ...form, firstSteps });
  }
  if (view.step === 'organization') return organizationPage(page, status, view.memberships, form.fieldErrors);
  const pages = deps.factorPages.find((p) => p.factor === view.factor);
  if (view.step === 'factor' && pages?.showStep) return pages.showStep(deps, page, status, view, form);
  if (view.step === 'enrollment' && pages?.showEnrollment) return pages.showEnrollment(deps, page, status, view, form);
  throw new Error(`Factor "${view.factor}" has no page for its ${view.step} step.`);
}

/**
 * Acts on the flow's answer: `next` persists the state and redirects (303) to the step page, `done` finishes the
 * login, `refused` shows the page again with the factor's words for the refusal. `factor`: whose words;
 * `form.login` refills the sign-in page. @returns whether the submission succeeded (the rate limits then forgive it).
 */
export async function answer(deps: InteractionDeps, req: Request, res: Response, result: SignInResult, form: { factor?: FactorId; login?: string } = {}): Promise<boolean> {
  const interaction = interactionOf(res);
  if (result.outcome === 'next') {
    const before = readSignInState(interaction);
    if (JSON.stringify(before) !== JSON.stringify(result.state)) await saveSignInState(interaction, result.state);
    res.redirect(303, urlsOf(deps, interaction).show);
    return true;
  }
  if (result.outcome === 'done') {
    await finishLogin(deps, req, res, result.login);
    return true;
  }
  const page = renderStep(deps, req, res);
  if (result.reason === 'locked') {
    await lockedPage(page);
    return false;
  }
  const { reason, view } = result;
  const words = deps.factorPages.find((p) => p.factor === form.factor)?.messages?.[view.step]?.[reason];
  const message = reason === 'out_of_step' ? MESSAGES.passwordFirst : (result.message ?? words);
  const fieldErrors = reason === 'invalid' && view.step === 'organization' ? { organizationId: [MESSAGES.chooseOrganization] } : undefined;
  await showView(deps, page, statusOf(reason, view), view, { message, fieldErrors, ...(reason === 'out_of_step' ? {} : { login: form.login }) });
  return false;
}

/** The persisted state of the loaded interaction (undefined before a first step). */
export const stateOf = (res: Response) => readSignInState(interactionOf(res));
