/**
 * Emails the account holder about a change to their second factor or password, so that a change they did not
 * make is noticed. Best effort: the change is already saved, so a mail failure is reported to the caller
 * (who records it in the audit event) rather than thrown.
 */
import type { Mailer } from '../../lib/index.js';
import type { Account } from '../model.js';

/**
 * Sends "<displayName>: <subject>" to the account's email with `body` and a line on what to do if it was not them.
 * @returns true when the mail was handed to the mail server (or outbox), false when sending failed.
 */
export async function notifyAccountHolder(mailer: Mailer, displayName: string, account: Account, subject: string, body: string): Promise<boolean> {
  try {
    await mailer.send({
      to: account.email,
      subject: `${displayName}: ${subject}`,
      text: `Hello ${account.name},\n\n${body}\n\nIf you did not make this change, contact your delegated administrator at once.\n`,
    });
    return true;
  } catch {
    return false;
  }
}
