/**
 * A signed-in account holder changes their password: the current password is checked through the password
 * sign-in step (so wrong guesses count toward the lockout, design/security.md §2), the new one must pass the
 * same policy as password reset (`checkNewPassword`), and the person is emailed. Every other session and grant of
 * the account ends; the session the change was made from stays (end-other-sessions.ts).
 */
import { DomainError, type Clock, type Mailer } from '../../lib/index.js';
import type { PasswordSignIn } from '../factors/password/password-sign-in.js';
import { checkNewPassword } from '../credentials/password-policy.js';
import { hashPassword } from '../credentials/password.js';
import type { EventBus } from '../events.js';
import { notifyAccountHolder } from '../authenticators/notify.js';
import type { AccountSessionRevoker } from '../recovery/stores.js';
import type { AccountStore } from '../stores.js';
import { endOtherSessions, type CredentialChangeContext } from './end-other-sessions.js';

/** Changes passwords. */
export type ChangePassword = (accountId: string, input: { currentPassword: string; newPassword: string; confirmPassword: string }, context?: CredentialChangeContext) => Promise<void>;

/**
 * Creates {@link ChangePassword}.
 * @throws (from the returned function) DomainError `validation_failed` with fieldErrors `currentPassword`
 *   (wrong, or the account is locked), `newPassword` (policy), `confirmPassword` (mismatch); `not_found`.
 */
export function createChangePassword(deps: { accounts: AccountStore; accountSessions: AccountSessionRevoker; passwordSignIn: PasswordSignIn; events: EventBus; mailer: Mailer; clock: Clock; displayName: string }): ChangePassword {
  const { accounts, accountSessions, passwordSignIn, events, mailer, clock, displayName } = deps;
  return async (accountId, input, context = {}) => {
    const account = await accounts.findById(accountId);
    if (!account) throw new DomainError('not_found', 'This account no longer exists.');
    if (input.newPassword !== input.confirmPassword) throw new DomainError('validation_failed', 'The new passwords do not match.', { fieldErrors: { confirmPassword: ['Type the same new password twice.'] } });
    const memberships = await accounts.listMemberships(accountId);
    const problems = checkNewPassword(input.newPassword, { userId: account.userId, email: account.email, organizationNames: memberships.map((m) => m.organization.name) });
    if (problems) throw new DomainError('validation_failed', 'Choose another new password.', { fieldErrors: { newPassword: problems.password ?? Object.values(problems).flat() } });
    const checked = await passwordSignIn.verifyPassword(account.userId, input.currentPassword, context);
    if (checked.outcome !== 'ok') {
      const message = checked.outcome === 'locked' ? 'Your account is locked; ask your delegated administrator to unlock it.' : 'Your current password is not correct.';
      throw new DomainError('validation_failed', message, { fieldErrors: { currentPassword: [message] } });
    }
    await accounts.updatePasswordHash(accountId, await hashPassword(input.newPassword), clock.now());
    const ended = await endOtherSessions(accountSessions, accountId, context, clock.now());
    const notified = await notifyAccountHolder(mailer, displayName, account, 'your password was changed', `The password of your account was changed from your account page.${ended ? ' Every other sign-in with the old password has ended.' : ''}`);
    await events.publish({ type: 'account.password_changed', accountId, ip: context.ip, data: { notified, ...ended } }, clock.now());
  };
}
