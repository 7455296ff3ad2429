/**
 * The password as a factor strategy: the first step that identifies the account (`first: 'identifies'`), RFC 8176
 * `pwd`. Its checks and lockout are ./password-sign-in.ts's; its place in the argon2 queue is taken before the
 * lockout attempt is reserved (../../credentials/password.ts `admitPasswordWork`), so a full queue answers 503
 * without counting an attempt. It has no registration or removal of its own: a password is set by recovery
 * (set-password and reset links) and changed on the account page.
 */
import { admitPasswordWork } from '../../credentials/password.js';
import { defineFactor, type FactorDeps } from '../registry.js';
import type { FactorStrategy } from '../strategy.js';
import { createPasswordSignIn, type PasswordSignIn } from './password-sign-in.js';

/** What the sign-in page forwards: the user ID or email, and the password (validated for size by the page). */
export interface PasswordSubmission {
  login: string;
  password: string;
}

/** The password strategy, with the password step itself (`signIn`, also used to check the current password on the account page). */
export interface PasswordStrategy extends FactorStrategy<PasswordSubmission, never, never, never> {
  readonly signIn: PasswordSignIn;
}

/** RFC 8176 `amr` of the password. */
export const PASSWORD_AMR: readonly string[] = ['pwd'];

/** Builds the password strategy. */
export function createPasswordStrategy(deps: FactorDeps): PasswordStrategy {
  const { accounts, lockouts } = deps.stores;
  const signIn = createPasswordSignIn({ accounts, lockouts, events: deps.events, clock: deps.clock, lockout: deps.lockout });
  return {
    id: 'pwd',
    amr: PASSWORD_AMR,
    steps: { first: 'identifies' },
    events: ['account.sign_in_failed', 'account.locked'],
    signIn,
    async isEnrolled(accountId) {
      return Boolean((await accounts.findById(accountId))?.passwordHash);
    },
    begin: async () => ({}),
    giveBack: (release) => lockouts.releaseAttempt(release.accountId, release.reservedAt),
    describe: async () => null,
    async verify(attempt, submission) {
      const result = await admitPasswordWork(() => signIn.verifyPassword(submission.login, submission.password, attempt.context, { holdRelease: attempt.holdRelease === true }));
      if (result.outcome === 'ok') {
        return { outcome: 'ok', accountId: result.account.id, account: result.account, ...(result.enrolled ? { enrolled: result.enrolled } : {}), ...(result.release ? { release: result.release } : {}), amr: [...PASSWORD_AMR] };
      }
      if (result.outcome === 'locked') return { outcome: 'locked', accountId: result.account.id };
      return { outcome: 'invalid' };
    },
    enroll: null,
    remove: null,
  };
}

/** The password's registration entry (./../index.ts). */
export const passwordFactor = defineFactor({ id: 'pwd', create: createPasswordStrategy });
