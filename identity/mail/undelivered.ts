/**
 * The operator's view of mail that did not go out: messages retrying after a failed attempt, and those given up
 * (`mail.delivery_failed`). Recipients are masked (`j***@example.com`); no body is ever shown.
 */
import { maskEmail } from '../factors/email-otp/email-otp.js';
import type { MailOutboxStore, UndeliveredMail } from './stores.js';

/** One row of the operator console's "Undelivered mail" screen. */
export type UndeliveredMailView = Omit<UndeliveredMail, 'to'> & { to: string };

/** Lists undelivered mail, newest first (at most `limit`, default 100), with masked recipients. */
export async function listUndeliveredMail(outbox: MailOutboxStore, limit?: number): Promise<UndeliveredMailView[]> {
  return (await outbox.listUndelivered(limit)).map((mail) => ({ ...mail, to: mail.to ? maskEmail(mail.to) : '(cannot be opened)' }));
}
