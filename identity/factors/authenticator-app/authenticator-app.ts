/**
 * The authenticator app as second factor at sign-in (RFC 6238). Like the emailed code (./email-otp.ts) every
 * attempt is reserved against the lockout before the code is checked, and every wrong or replayed code
 * counts (design/security.md §2). A code is accepted only for a time step later than the last accepted one,
 * recorded by a conditional UPDATE, so the same code signs in at most once across every instance (§4).
 */
import type { Clock } from '../../../lib/index.js';
import type { EventBus } from '../../events.js';
import type { LockoutPolicy, LockoutStore } from '../../stores.js';
import type { AuthenticatorStore } from './stores.js';
import { composeAmr, type OtpOutcome } from '../strategy.js';
import type { AttemptContext } from '../../authentication/sign-in.js';
import { createFactorAttempts } from '../../authentication/factor-attempts.js';
import { verifyTotp } from './totp.js';

/**
 * RFC 8176 `amr` of a sign-in completed with the app: `pwd` (password), `otp` (an RFC 6238 one-time
 * password), `swk` (proof of possession of a software-secured key: the secret held by the app), `mfa`.
 * The emailed code gives `pwd`, `otp`, `mfa` only, so portals demand the app by requiring `swk`.
 */
export const APP_SIGN_IN_AMR: readonly string[] = ['pwd', 'otp', 'swk', 'mfa'];

/** The values the app adds to a sign-in's `amr`: `otp`, `swk` ({@link APP_SIGN_IN_AMR} after the password). */
export const APP_AMR: readonly string[] = ['otp', 'swk'];

/** What {@link createAuthenticatorAppFactor} needs. */
export interface AuthenticatorAppDeps {
  authenticators: AuthenticatorStore;
  lockouts: LockoutStore;
  events: EventBus;
  clock: Clock;
  lockout: LockoutPolicy;
}

/** The app second factor. */
export interface AuthenticatorAppFactor {
  /** True when the account has a confirmed app registration. */
  hasApp(accountId: string): Promise<boolean>;
  /**
   * Checks a code from the account's app and consumes its time step. Records `account.signed_in` on success,
   * `account.sign_in_failed` (factor `totp`) and possibly `account.locked` on failure.
   * @returns `ok` with {@link APP_SIGN_IN_AMR}; `invalid` for a wrong, malformed or replayed code or no app;
   *   `locked` when the account is locked (now or before).
   * @param completes - the sign-in's `amr` before this step (default `['pwd']`, giving {@link APP_SIGN_IN_AMR}):
   *   composed with {@link APP_AMR} ({@link composeAmr}); null records no sign-in.
   */
  verify(accountId: string, code: string, context?: AttemptContext, completes?: { amr: readonly string[] } | null): Promise<OtpOutcome>;
  /**
   * Checks a fresh code of the confirmed app for a change on the account page (removal, replacement): the
   * same lockout accounting and replay guard as sign-in, without recording a sign-in.
   * @returns `ok` (amr is {@link APP_SIGN_IN_AMR}), `invalid` or `locked`.
   */
  verifyFresh(accountId: string, code: string, context?: AttemptContext): Promise<OtpOutcome>;
}

/** Creates the app second factor. */
export function createAuthenticatorAppFactor(deps: AuthenticatorAppDeps): AuthenticatorAppFactor {
  const { authenticators, clock } = deps;
  const attempts = createFactorAttempts(deps, 'totp');

  async function failure(accountId: string, reason: string, context: AttemptContext): Promise<OtpOutcome> {
    return { outcome: (await attempts.fail(accountId, reason, context)) ? 'locked' : 'invalid' };
  }

  /** Checks a code; with `completes`, a success is recorded as `account.signed_in` with the composed `amr`. */
  async function check(accountId: string, code: string, context: AttemptContext, completes: { amr: readonly string[] } | null): Promise<OtpOutcome> {
    const refused = await attempts.reserve(accountId, context);
    if (refused) return refused;
    const registration = await authenticators.findConfirmed(accountId);
    if (!registration) return failure(accountId, 'wrong_otp', context);
    const step = await verifyTotp(registration.secret, code, clock.now(), registration.lastUsedStep);
    if (step === null) return failure(accountId, 'wrong_otp', context);
    if (!(await authenticators.useStep(registration.id, step))) return failure(accountId, 'replayed_otp', context);
    const amr = completes ? composeAmr(completes.amr, APP_AMR) : [...APP_SIGN_IN_AMR];
    await attempts.succeed(accountId, context, completes ? amr : undefined);
    return { outcome: 'ok', amr };
  }

  return {
    async hasApp(accountId) {
      return (await authenticators.findConfirmed(accountId)) !== null;
    },
    verify(accountId, code, context = {}, completes = { amr: ['pwd'] }) {
      return check(accountId, code, context, completes);
    },
    verifyFresh(accountId, code, context = {}) {
      return check(accountId, code, context, null);
    },
  };
}
