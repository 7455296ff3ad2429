/**
 * The email that tells an account holder their account was locked (issue 8 §5): when, in the deployment's time
 * zone, and the two ways to unlock it. Pure composition, so whichever mechanism delivers it (the mailer now, a
 * durable outbox later) sends the same message. Plain text and HTML alternatives; every value placed in HTML
 * is escaped.
 */
import type { MailMessage } from '../../lib/index.js';
import { formatInstant } from '../change-requests/format-time.js';
import type { Account } from '../model.js';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What {@link accountLockedEmail} needs. */
export interface AccountLockedEmailInput {
  displayName: string;
  account: Pick<Account, 'email' | 'name' | 'userId'>;
  /** When the account was locked. */
  lockedAt: Date;
  /** IANA time zone the time is shown in (config `TIME_ZONE`), e.g. `Asia/Hong_Kong`. */
  timeZone: string;
  /** The absolute URL of the "Forgot password?" form (`<issuer>/password/forgot`). */
  forgotPasswordUrl: string;
}

/**
 * Subject `<display name>: your account is locked`; says when (`07-Feb-2023 10:43 GMT+8`), why, that a
 * completed "Forgot password?" reset or a delegated administrator unlocks it, and what to do if the failed
 * attempts were not the holder's.
 */
export function accountLockedEmail(input: AccountLockedEmailInput): MailMessage {
  const { displayName, account, forgotPasswordUrl } = input;
  const what = `Your ${displayName} account ${account.userId} was locked on ${formatInstant(input.lockedAt, input.timeZone)} because too many sign-in attempts failed (wrong passwords or one-time codes). While it is locked, nobody can sign in with it, even with the right password.`;
  const reset = 'To unlock it yourself, choose a new password with "Forgot password?" on the sign-in page; completing the reset unlocks the account:';
  const ask = "Or ask your organization's delegated administrator to unlock your account.";
  const notYou = 'If these attempts were not yours, someone may be trying to guess your password: reset it as above and tell your delegated administrator.';
  const text = `Dear ${account.name},\n\n${what}\n\n${reset}\n${forgotPasswordUrl}\n\n${ask}\n\n${notYou}\n\nThis email was sent automatically; please do not reply to it.\n`;
  const paragraphs = [
    `Dear ${escapeHtml(account.name)},`,
    escapeHtml(what),
    `${escapeHtml(reset)}<br><a href="${escapeHtml(forgotPasswordUrl)}">Forgot password?</a> <span style="word-break:break-all;font-family:monospace">${escapeHtml(forgotPasswordUrl)}</span>`,
    escapeHtml(ask),
    escapeHtml(notYou),
  ];
  const html = `<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a;max-width:600px;margin:0 auto;padding:16px">
<p style="font-size:18px;font-weight:bold;margin:0 0 24px">${escapeHtml(displayName)}</p>
${paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join('\n')}
<p style="margin:24px 0 0;font-size:13px;color:#555">This email was sent automatically; please do not reply to it.</p>
</body></html>`;
  return { to: account.email, subject: `${displayName}: your account is locked`, text, html };
}
