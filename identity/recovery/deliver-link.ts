/**
 * How a password link (reset or set-password) reaches its owner: stored, emailed, and only once delivered made
 * the account's one usable link of its purpose. A mail outage therefore never leaves the person without the
 * link they already have.
 */
import type { Clock } from '../../lib/index.js';
import type { PasswordResetStore, PasswordResetToken } from './stores.js';

/**
 * Stores `token`, awaits `send` (the email carrying its link), then supersedes the account's older links of the
 * same purpose; when `send` fails the new link is withdrawn and the older ones keep working.
 * @throws what `send` throws (after withdrawing the link), or what the store throws.
 */
export async function deliverLink(store: PasswordResetStore, clock: Clock, token: PasswordResetToken, send: () => Promise<void>): Promise<void> {
  await store.issue(token);
  try {
    await send();
  } catch (error) {
    await store.withdraw(token.tokenHash, clock.now());
    throw error;
  }
  await store.supersedeOlder(token, clock.now());
}
