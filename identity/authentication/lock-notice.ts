/**
 * Tells the holder when their account locks (issue 8 §5). A burst of guesses can spend the one password check a
 * locked account gets per window before the holder tries, and the sign-in pages must not say more to a guesser
 * than "incorrect"; so the holder learns it by email: once per lock, since only the one call that set the lock
 * publishes `account.locked` (LockoutStore.lockIfExhausted), whichever instance it ran on.
 *
 * The email goes out after the answer of the failure that locked (background task), so that answer takes no
 * longer than any other failure. `account.lock_notified` records the outcome.
 */
import type { Clock, Logger, Mailer } from '../../lib/index.js';
import type { EventBus } from '../events.js';
import { createBackgroundTasks } from '../recovery/background.js';
import type { AccountStore } from '../stores.js';
import { accountLockedEmail } from './account-locked-email.js';

/** What {@link notifyHolderWhenLocked} needs. */
export interface LockNoticeDeps {
  events: EventBus;
  accounts: AccountStore;
  mailer: Mailer;
  clock: Clock;
  displayName: string;
  /** IANA time zone of the lock time in the email. */
  timeZone: string;
  /** Absolute URL of the "Forgot password?" form. */
  forgotPasswordUrl: string;
  /** Where a failed email is logged with its error id. */
  logger?: Logger;
}

/** The emails under way. */
export interface LockNotices {
  /** Resolves when every lock email started so far was sent or failed (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * Subscribes to `account.locked` on `deps.events`: for each, emails the account holder {@link accountLockedEmail}
 * in the background and records `account.lock_notified` (data.lockedAt; data.sent false and data.errorId when the
 * email could not be sent, the cause being in the error log). Never makes the publisher fail.
 */
export function notifyHolderWhenLocked(deps: LockNoticeDeps): LockNotices {
  const { events, accounts, mailer, clock } = deps;
  const background = createBackgroundTasks(deps.logger);
  events.subscribe((event) => {
    const accountId = event.accountId;
    if (event.type !== 'account.locked' || !accountId) return;
    const lockedAt = event.occurredAt;
    const notified = (data: Record<string, unknown>) => events.publish({ type: 'account.lock_notified', accountId, data: { lockedAt: lockedAt.toISOString(), ...data } }, clock.now());
    let sent = false;
    background.run(
      'account locked email',
      async () => {
        const account = await accounts.findById(accountId);
        if (!account) return;
        await mailer.send(accountLockedEmail({ displayName: deps.displayName, account, lockedAt, timeZone: deps.timeZone, forgotPasswordUrl: deps.forgotPasswordUrl }));
        sent = true;
        await notified({ sent: true });
      },
      (errorId) => notified({ sent, errorId }),
    );
  });
  return { idle: () => background.idle() };
}
