/**
 * The passkey's pages of sign-in (identity/factors/passkey), each a form post under the strict CSP, the ceremony
 * run by the static module /assets/passkey-sign-in.js (or passkey-registration.js for a registration):
 *
 *   POST /interaction/:uid/passkey/options   request options as JSON (WebAuthn §5.5), for the sign-in page's button
 *                                            and autofill (passwordless; before any first step) — 409 otherwise
 *   POST /interaction/:uid/passkey           the browser's answer (AuthenticationResponseJSON): passwordless on the
 *                                            sign-in page, or the second factor when the flow asks the passkey
 *   POST /interaction/:uid/passkey/instead   another second factor the flow offers (`factor`)
 *   POST /interaction/:uid/passkey/register  name + answer (RegistrationResponseJSON) at the registration prompt
 *
 * The pages validate the form (zod) and forward it to identity's sign-in flow; what comes next is the flow's.
 */
import { z } from 'zod';
import { PASSKEY_NAME_MAX_LENGTH } from '../../identity/index.js';
import { toFieldErrors } from '../../lib/index.js';
import { formText } from '../form-fields.js';
import { interactionOf, renderStep, type InteractionDeps, type StepHandler } from './context.js';
import { answer, bindingOf, showView, stateOf, type FactorPages } from './factor-step.js';
import type { StepPage } from './pages.js';
import { forgiveAttempt } from './throttle.js';

const REFUSED = 'That passkey could not be used to sign in here. Try again, or choose another way to sign in.';
const NAME_SENTENCE = 'Give the passkey a name, such as the device it is on.';
const answerForm = z.object({ response: formText('The passkey did not answer. Try again.').min(2).max(8000) });
const insteadForm = z.object({ factor: formText('Choose another way to sign in.').max(16) });
const registerForm = z.object({
  name: formText(NAME_SENTENCE).trim().min(1, NAME_SENTENCE).max(PASSKEY_NAME_MAX_LENGTH, `A passkey name has at most ${PASSKEY_NAME_MAX_LENGTH} characters.`),
  response: formText('The passkey was not created. Try again.').min(2).max(8000),
});

/** How the other second factors are offered on the passkey page. */
const ALTERNATIVE_LABELS: Record<string, string> = { otp: 'Email me a code instead', totp: 'Use my authenticator app instead' };

/** The JSON the form carried, or undefined when it is not JSON (then refused like a wrong answer). */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Request options for the sign-in page's passwordless ceremony, bound to this interaction. */
function options(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (stateOf(res)) return void res.status(409).json({ error: 'out_of_step', message: 'This sign-in has moved on: reload the page.' });
    const passkeyOptions = await deps.identity.factors.byId.passkey.service.beginAuthentication({ mode: 'passwordless', interactionUid: interactionOf(res).uid });
    res.json(passkeyOptions);
  };
}

/** The browser's answer: passwordless before any first step, else the asked second factor. */
function submit(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const state = stateOf(res);
    const binding = bindingOf(req, res);
    const input = answerForm.safeParse(req.body ?? {});
    const submission = { response: input.success ? parsed(input.data.response) : undefined };
    const result = state ? await deps.identity.signIn.submitFactor(binding, state, 'passkey', submission) : await deps.identity.signIn.submitFirst(binding, 'passkey', submission);
    if (result.outcome !== 'refused') await forgiveAttempt(deps, req, res);
    await answer(deps, req, res, result, { factor: 'passkey' });
  };
}

/** "Email me a code instead" and the like: the flow switches when it offers that factor. */
function instead(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const input = insteadForm.safeParse(req.body ?? {});
    const result = await deps.identity.signIn.chooseFactor(bindingOf(req, res), stateOf(res), input.success ? input.data.factor : '');
    await answer(deps, req, res, result, { factor: 'passkey' });
  };
}

/** The registration's answer at the sign-in prompt. */
function register(deps: InteractionDeps): StepHandler {
  return async (req, res) => {
    const state = stateOf(res);
    const binding = bindingOf(req, res);
    const input = registerForm.safeParse(req.body ?? {});
    if (!input.success && state?.step === 'enrollment' && state.factor === 'passkey') {
      const fieldErrors = toFieldErrors(input.error.issues);
      return showView(deps, renderStep(deps, req, res), 400, await deps.identity.signIn.view(binding, state), { fieldErrors: { name: fieldErrors.name ?? [] }, message: fieldErrors.response?.[0] });
    }
    const submission = input.success ? { name: input.data.name, response: parsed(input.data.response) } : undefined;
    await answer(deps, req, res, await deps.identity.signIn.completeEnrollment(binding, state, submission), { factor: 'passkey' });
  };
}

/** The registration prompt ("Register a passkey" / "Skip this step"), or the creation page once begun. */
function enrollmentPage(page: StepPage, status: number, model: { setup: unknown; skipAllowed: boolean; message?: string; fieldErrors?: Record<string, string[]> }) {
  const optionsJson = (model.setup as { optionsJson?: string } | null)?.optionsJson ?? '';
  return page(status, 'passkey-register', {
    title: optionsJson ? 'Create a passkey' : 'Register a passkey',
    reason: 'Your organization requires a passkey for delegated administrators: it cannot be phished the way a password or a code can.',
    optionsJson, name: '', deadline: null, skipAllowed: model.skipAllowed, message: model.message, fieldErrors: model.fieldErrors,
  });
}

/** The passkey's pages. */
export const passkeyPages: FactorPages = {
  factor: 'passkey',
  routes: [
    { path: '/passkey/options', attempt: false, handler: options },
    { path: '/passkey', attempt: true, handler: submit },
    { path: '/passkey/instead', attempt: false, handler: instead },
    { path: '/passkey/register', attempt: false, handler: register },
  ],
  showStep: (_deps, page, status, view, form) => page(status, 'passkey-sign-in', {
    title: 'Use your passkey',
    optionsJson: (view.status as { optionsJson?: string } | null)?.optionsJson ?? '',
    alternatives: view.alternatives.filter((id) => ALTERNATIVE_LABELS[id]).map((id) => ({ id, label: ALTERNATIVE_LABELS[id]! })),
    ...form,
  }),
  showEnrollment: (_deps, page, status, view, form) => enrollmentPage(page, status, { setup: view.setup, skipAllowed: view.skipAllowed, ...form }),
  firstStep: () => ({ partial: 'partials/passkey-first-step', model: {} }),
  messages: {
    first: { invalid: REFUSED, expired: 'This passkey request expired. Try again.' },
    factor: { invalid: REFUSED, expired: 'This passkey request expired. Try again.' },
    enrollment: {
      invalid: 'The passkey could not be registered: its answer was not valid for this site. Try again.',
      expired: 'This passkey registration expired. Press "Create passkey" to try again.',
    },
  },
};
