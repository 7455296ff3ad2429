/**
 * How a password link (reset or set-password) reaches its owner: the link and the outbox message carrying it are
 * stored in one transaction, and the mail worker delivers it. Only once delivered does it become the account's
 * one usable link of its purpose (the outbox's `markSent` supersedes the older ones), so a mail outage never
 * leaves the person without the link they already have, and the link is never lost: it goes out once SMTP is back.
 */
import { newId } from '../../lib/index.js';
import type { EventInput } from '../events.js';
import type { MailDelivery } from '../mail/delivery.js';
import type { PasswordResetStore, PasswordResetToken } from './stores.js';
import type { MailMessage } from '../../lib/index.js';

/**
 * Stores `token` with its email in the outbox and asks for its delivery; `deliveredEvent` is published once it is
 * delivered (e.g. `password_reset.email_sent`).
 * @throws what the store throws (nothing is stored then).
 */
export async function deliverLink(store: PasswordResetStore, delivery: MailDelivery, token: PasswordResetToken, message: MailMessage, deliveredEvent: EventInput): Promise<void> {
  const purpose = token.purpose === 'reset' ? ('reset_link' as const) : ('set_password_link' as const);
  const mail = { id: newId(), purpose, reference: token.id, accountId: token.accountId, message, discardAfter: token.expiresAt, deliveredEvent };
  await store.issue(token, mail);
  delivery.deliverSoon([mail.id]);
}
