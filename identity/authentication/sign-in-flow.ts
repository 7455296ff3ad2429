/**
 * The sign-in flow: which step comes next, decided here, never by a page (design/style.md). Its steps:
 *
 * 1. A first-step factor (`steps.first`): the password, or a factor that identifies the account and counts as
 *    both factors (`first: 'completes'`, a passwordless passkey: go to 3 with that factor's `amr`).
 * 2. A second factor, chosen among the account's enrolled second-step factors ({@link chooseSecondFactor}); the
 *    person may switch to one of the `alternatives`. Its success records `account.signed_in` with the composed `amr`.
 * 3. A registration prompt, when a factor's `enroll.prompt` asks (a re-registration campaign, the registration
 *    offer): "Register device" (its registration page) or "Skip this step".
 * 4. The acting organization, when the account has more than one membership; then the sign-in is done.
 *
 * Every answer is a {@link SignInResult}: idp/ persists the new state on the interaction, finishes it, or shows
 * the page of {@link SignInStepView} again. No HTTP here: the pages validate what the person typed and forward it.
 */
import { DomainError } from '../../lib/index.js';
import type { Account, AccountView } from '../model.js';
import type { AccountStore } from '../stores.js';
import type { FactorRegistry } from '../factors/registry.js';
import type { EnrolledFactors, FactorBinding, FactorId, FactorStrategy, PendingRelease, PromptFacts } from '../factors/strategy.js';
import type { SignInResult, SignInState, SignInStepView } from './sign-in-state.js';

/** The sign-in flow. `binding` is the interaction and who is signing in; `state` what idp/ persisted (undefined before a first step). */
export interface SignInFlow {
  /** The page of the step `state` is at (before a first step: the sign-in page, each first-step factor begun). */
  view(binding: FactorBinding, state: SignInState | undefined): Promise<SignInStepView>;
  /** A first step with first-step factor `factor` (`pwd`, `passkey`): `out_of_step` for a factor that cannot be one. */
  submitFirst(binding: FactorBinding, factor: FactorId, submission: unknown): Promise<SignInResult>;
  /** The answer to the asked second factor; `out_of_step` unless `state` asks `factor`. */
  submitFactor(binding: FactorBinding, state: SignInState | undefined, factor: FactorId, submission: unknown): Promise<SignInResult>;
  /** Switches the asked second factor to one of the state's alternatives ("Email me a code instead"); `forbidden` otherwise. */
  chooseFactor(binding: FactorBinding, state: SignInState | undefined, factor: FactorId): Promise<SignInResult>;
  /** Begins the asked factor again ("Resend code"); `out_of_step` unless `state` asks `factor`; `rate_limited` with the wait in `message`. */
  beginAgain(binding: FactorBinding, state: SignInState | undefined, factor: FactorId): Promise<SignInResult>;
  /** "Register device" at the registration prompt: begins the prompted factor's registration. */
  startEnrollment(binding: FactorBinding, state: SignInState | undefined): Promise<SignInResult>;
  /** Completes that registration with the person's answer, then continues the sign-in. */
  completeEnrollment(binding: FactorBinding, state: SignInState | undefined, submission: unknown): Promise<SignInResult>;
  /** "Skip this step": `forbidden` past the campaign's skip deadline. */
  skipEnrollment(binding: FactorBinding, state: SignInState | undefined): Promise<SignInResult>;
  /** The acting organization: `invalid` unless it is one of the account's memberships. */
  chooseOrganization(binding: FactorBinding, state: SignInState | undefined, organizationId: string): Promise<SignInResult>;
}

/** What {@link createSignInFlow} needs. */
export interface SignInFlowDeps {
  factors: FactorRegistry;
  accounts: Pick<AccountStore, 'findById' | 'findView'>;
  /** The account's preferred second factor, when it chose one (mapped from its stored preference), else null. */
  preferredFactor(accountId: string): Promise<FactorId | null>;
  /**
   * A fallback factor (the emailed code, `otp`) is allowed beside another enrolled factor only when this is true
   * (policies/authenticator.ts `emailFallback`); alone it is always allowed.
   */
  fallback: { factor: FactorId; allowedBesideOthers: boolean };
}

/**
 * Which second factor the flow asks, of the account's enrolled ones (in registry order): the preferred one when
 * allowed, else the first that is not the fallback, else the fallback. The fallback is left out beside other
 * factors unless `allowedBesideOthers`. @returns null when the account has none (it cannot complete a sign-in).
 */
export function chooseSecondFactor(enrolled: FactorId[], preferred: FactorId | null, fallback: SignInFlowDeps['fallback']): { factor: FactorId; alternatives: FactorId[] } | null {
  const others = enrolled.filter((id) => id !== fallback.factor);
  const allowed = others.length > 0 && !fallback.allowedBesideOthers ? others : enrolled;
  const factor = preferred !== null && allowed.includes(preferred) ? preferred : (others[0] ?? allowed[0]);
  if (factor === undefined) return null;
  return { factor, alternatives: allowed.filter((id) => id !== factor) };
}

/** Creates the flow. */
export function createSignInFlow(deps: SignInFlowDeps): SignInFlow {
  const { factors, accounts } = deps;
  const refused = (reason: Extract<SignInResult, { outcome: 'refused' }>['reason'], view: SignInStepView, extra: { message?: string; state?: SignInState } = {}): SignInResult => ({ outcome: 'refused', reason, view, ...extra });
  const strategy = (id: FactorId): FactorStrategy => {
    const found = factors.find(id);
    if (!found) throw new DomainError('internal', `No factor "${id}" is registered.`);
    return found;
  };

  async function firstView(binding: FactorBinding): Promise<SignInStepView> {
    const steps = await Promise.all(factors.firstSteps().map(async (s) => ({ id: s.id, challenge: await s.begin({ ...binding, account: null, repeat: false }) })));
    return { step: 'first', factors: steps };
  }

  async function view(binding: FactorBinding, state: SignInState | undefined): Promise<SignInStepView> {
    if (!state) return firstView(binding);
    if (state.step === 'factor') {
      return { step: 'factor', factor: state.factor, alternatives: state.alternatives, status: await strategy(state.factor).describe(state.accountId, binding, state.challenge) };
    }
    if (state.step === 'enrollment') {
      const enroll = strategy(state.factor).enroll;
      const account = state.enrolling && enroll ? await accounts.findById(state.accountId) : null;
      const setup = account && enroll ? ((await enroll.findPending(account, binding.context)) ?? (await enroll.begin(account, 'sign_in', binding.context))) : null;
      return { step: 'enrollment', factor: state.factor, campaign: state.campaignId !== null, skipAllowed: state.skipAllowed, setup };
    }
    return { step: 'organization', memberships: (await accounts.findView(state.accountId))?.memberships ?? [] };
  }

  /** Asks `factor` of the account: begins it and returns the state that shows its page (`enrolled` kept in it). */
  async function ask(binding: FactorBinding, accountId: string, account: Account | null, amr: string[], factor: FactorId, alternatives: FactorId[], enrolled: EnrolledFactors | undefined, repeat = false, release?: PendingRelease): Promise<SignInState> {
    const s = strategy(factor);
    const challenge = await s.begin({ ...binding, account: account ?? (await accounts.findById(accountId)), repeat, ...(release ? { release } : {}) });
    return { step: 'factor', accountId, amr, factor, challenge, alternatives, ...(enrolled ? { enrolled } : {}) };
  }

  /**
   * After a first step that identified the account: the second factor. `enrolled`: the account's factors as the
   * first step read them (each factor is asked otherwise). `held`: the first step's reservation still to be given
   * back (its strategy `first`'s `giveBack`): handed to the second factor's begin when that gives it back in its own
   * write, else given back here before this returns or throws. (A begin that fails in its write may leave it
   * counted: only stricter, never a failure uncounted.)
   */
  async function afterFirstStep(binding: FactorBinding, accountId: string, account: Account | null, amr: string[], enrolled: EnrolledFactors | undefined, held?: { release: PendingRelease; first: FactorStrategy }): Promise<SignInResult> {
    let pending = held;
    const handOver = (s: FactorStrategy): PendingRelease | undefined => {
      if (!pending || !s.releasesInBegin) return undefined;
      pending = undefined;
      return held!.release;
    };
    try {
      return await chooseAndAsk(binding, accountId, account, amr, enrolled, handOver);
    } finally {
      if (pending?.first.giveBack) await pending.first.giveBack(pending.release);
    }
  }

  async function chooseAndAsk(binding: FactorBinding, accountId: string, account: Account | null, amr: string[], enrolled: EnrolledFactors | undefined, handOver: (s: FactorStrategy) => PendingRelease | undefined): Promise<SignInResult> {
    // acr_values naming a factor's acr (phr: a passkey) leaves only such factors to ask; none enrolled is refused.
    const asked = factors.secondSteps().filter((s) => s.acr !== undefined && binding.acrValues?.includes(s.acr));
    const candidates = asked.length > 0 ? asked : factors.secondSteps();
    const usable = (await Promise.all(candidates.map(async (s) => ((await s.isEnrolled(accountId, enrolled)) ? s.id : null)))).filter((id): id is string => id !== null);
    const choice = (preferred: FactorId | null) => chooseSecondFactor(usable, preferred, deps.fallback);
    // The preference is read only when it can decide something.
    const first = choice(null);
    const chosen = first && first.alternatives.length > 0 ? choice(await deps.preferredFactor(accountId)) : first;
    if (!chosen && asked.length > 0) throw new DomainError('forbidden', 'This application asks for a sign-in with a passkey. Register one on your account page first, or ask your delegated administrator.', { expose: true });
    if (!chosen) throw new DomainError('forbidden', 'This account has no second factor to sign in with. Ask your delegated administrator.', { expose: true });
    return { outcome: 'next', state: await ask(binding, accountId, account, amr, chosen.factor, chosen.alternatives, enrolled, false, handOver(strategy(chosen.factor))) };
  }

  /**
   * After both factors: a registration prompt, or the organization, or done. The account's view is read once (or
   * taken from `known.view`, read by the factor's own statement) for the prompts and the organization alike.
   */
  async function afterSecondFactor(binding: FactorBinding, accountId: string, amr: string[], acr: string | undefined, known: PromptFacts = {}): Promise<SignInResult> {
    const view = known.view !== undefined ? known.view : await accounts.findView(accountId);
    for (const s of factors.list()) {
      const prompt = s.enroll?.prompt ? await s.enroll.prompt(accountId, { ...known, view }) : null;
      if (prompt) return { outcome: 'next', state: { step: 'enrollment', accountId, amr, ...(acr ? { acr } : {}), factor: s.id, campaignId: prompt.campaignId, skipAllowed: prompt.skipAllowed, enrolling: false } };
    }
    return toOrganization(accountId, amr, acr, view);
  }

  /** The organization step, or done; `view` when the caller read the account's view already. */
  async function toOrganization(accountId: string, amr: string[], acr: string | undefined, view?: AccountView | null): Promise<SignInResult> {
    const memberships = (view !== undefined ? view : await accounts.findView(accountId))?.memberships ?? [];
    if (memberships.length <= 1) return { outcome: 'done', login: { accountId, amr, ...(acr ? { acr } : {}), organizationId: memberships[0]?.organizationId } };
    return { outcome: 'next', state: { step: 'organization', accountId, amr, ...(acr ? { acr } : {}) } };
  }

  /** The enrollment state with its account, or null when the sign-in is not at a registration prompt. */
  async function prompted(state: SignInState | undefined) {
    if (state?.step !== 'enrollment') return null;
    const enroll = factors.find(state.factor)?.enroll;
    const account = enroll ? await accounts.findById(state.accountId) : null;
    return enroll && account ? { state, enroll, account } : null;
  }

  return {
    view,

    async submitFirst(binding, factor, submission) {
      const s = factors.find(factor);
      if (!s?.steps.first) return refused('out_of_step', await firstView(binding));
      const completes = s.steps.first === 'completes';
      const result = await s.verify({ ...binding, accountId: null, challenge: {}, completes: completes ? { amr: [] } : null, holdRelease: !completes && s.giveBack !== undefined }, submission);
      if (result.outcome === 'ok') {
        if (completes) return afterSecondFactor(binding, result.accountId, result.amr, result.acr, result.view !== undefined ? { view: result.view } : {});
        return afterFirstStep(binding, result.accountId, result.account ?? null, result.amr, result.enrolled, result.release ? { release: result.release, first: s } : undefined);
      }
      return refused(result.outcome === 'locked' ? 'locked' : result.outcome === 'expired' ? 'expired' : 'invalid', await firstView(binding));
    },

    async submitFactor(binding, state, factor, submission) {
      if (state?.step !== 'factor' || state.factor !== factor) return refused('out_of_step', await firstView(binding));
      const result = await strategy(factor).verify({ ...binding, accountId: state.accountId, challenge: state.challenge, completes: { amr: state.amr } }, submission);
      if (result.outcome === 'ok') return afterSecondFactor(binding, state.accountId, result.amr, result.acr, { enrolled: state.enrolled, ...(result.view !== undefined ? { view: result.view } : {}) });
      if (result.outcome === 'locked') return refused('locked', await view(binding, state));
      return refused(result.outcome, await view(binding, state));
    },

    async chooseFactor(binding, state, factor) {
      if (state?.step !== 'factor') return refused('out_of_step', await firstView(binding));
      if (!state.alternatives.includes(factor)) return refused('forbidden', await view(binding, state));
      const alternatives = [...state.alternatives.filter((id) => id !== factor), state.factor];
      return { outcome: 'next', state: await ask(binding, state.accountId, null, state.amr, factor, alternatives, state.enrolled) };
    },

    async beginAgain(binding, state, factor) {
      if (state?.step !== 'factor' || state.factor !== factor) return refused('out_of_step', await firstView(binding));
      try {
        return { outcome: 'next', state: await ask(binding, state.accountId, null, state.amr, state.factor, state.alternatives, state.enrolled, true) };
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'rate_limited')) throw error;
        return refused('rate_limited', await view(binding, state), { message: error.message });
      }
    },

    async startEnrollment(binding, state) {
      const current = await prompted(state);
      if (!current) return refused('out_of_step', await firstView(binding));
      await current.enroll.begin(current.account, 'sign_in', binding.context);
      return { outcome: 'next', state: { ...current.state, enrolling: true } };
    },

    async completeEnrollment(binding, state, submission) {
      const current = await prompted(state);
      if (!current?.state.enrolling) return refused('out_of_step', await firstView(binding));
      const { enroll, account } = current;
      const enrollment = current.state;
      const context = { ...binding.context, campaignId: enrollment.campaignId };
      // The page shows this registration again when the answer is wrong (a new one when the old one expired).
      const setup = (await enroll.findPending(account, binding.context)) ?? (await enroll.begin(account, 'sign_in', binding.context));
      const result = await enroll.complete(account, submission, context);
      if (result.outcome === 'ok') return toOrganization(enrollment.accountId, enrollment.amr, enrollment.acr);
      const again = result.outcome === 'expired' ? await enroll.begin(account, 'sign_in', binding.context) : setup;
      return refused(result.outcome, { step: 'enrollment', factor: enrollment.factor, campaign: enrollment.campaignId !== null, skipAllowed: enrollment.skipAllowed, setup: again });
    },

    async skipEnrollment(binding, state) {
      if (state?.step !== 'enrollment') return refused('out_of_step', await firstView(binding));
      const enroll = strategy(state.factor).enroll;
      const forbidden = (message: string) => refused('forbidden', { step: 'enrollment', factor: state.factor, campaign: state.campaignId !== null, skipAllowed: false, setup: null }, { message });
      try {
        if (!state.skipAllowed) throw new DomainError('forbidden', 'The deadline for skipping has passed: register your device to continue.');
        await enroll?.skip(state.accountId, state.campaignId, binding.context);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'forbidden')) throw error;
        return forbidden(error.message);
      }
      return toOrganization(state.accountId, state.amr, state.acr);
    },

    async chooseOrganization(binding, state, organizationId) {
      if (state?.step !== 'organization') return refused('out_of_step', await firstView(binding));
      const memberships = (await accounts.findView(state.accountId))?.memberships ?? [];
      const chosen = memberships.find((m) => m.organizationId === organizationId);
      if (!chosen) return refused('invalid', { step: 'organization', memberships });
      return { outcome: 'done', login: { accountId: state.accountId, amr: state.amr, ...(state.acr ? { acr: state.acr } : {}), organizationId: chosen.organizationId } };
    },
  };
}
