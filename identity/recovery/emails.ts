/**
 * The emails of password recovery: the reset link ("Forgotten password email"), the notice that the password
 * was changed, and the set-password link a new account receives. Plain text and HTML alternatives; every value
 * placed in HTML is escaped.
 */
import type { MailMessage } from '../../lib/index.js';
import type { Account } from '../model.js';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `7200` → `2 hours`, `900` → `15 minutes`, `1` → `1 second`. */
export function describeDuration(seconds: number): string {
  const [amount, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
}

/** Wraps paragraphs (already escaped HTML) in a minimal, phone-friendly email body. */
function htmlBody(displayName: string, paragraphs: string[]): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join('\n');
  return `<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a;max-width:600px;margin:0 auto;padding:16px">
<p style="font-size:18px;font-weight:bold;margin:0 0 24px">${escapeHtml(displayName)}</p>
${body}
<p style="margin:24px 0 0;font-size:13px;color:#555">This email was sent automatically; please do not reply to it.</p>
</body></html>`;
}

/** The button and the copyable full link of a link email (escaped HTML paragraphs). */
function linkParagraphs(label: string, link: string): string[] {
  return [
    `<a href="${escapeHtml(link)}" style="display:inline-block;background:#0b5394;color:#ffffff;text-decoration:none;font-weight:bold;padding:12px 24px;border-radius:4px">${escapeHtml(label)}</a>`,
    `Or copy this link into your browser:<br><span style="word-break:break-all;font-family:monospace">${escapeHtml(link)}</span>`,
  ];
}

/**
 * The reset email: subject `<display name>: Forgotten password email`, a "Reset password" button, the full
 * link as copyable text, its validity ("effective for 2 hours") and what to do if the person did not ask.
 */
export function resetEmail(input: { displayName: string; account: Account; link: string; ttlSeconds: number }): MailMessage {
  const { displayName, account, link } = input;
  const validity = describeDuration(input.ttlSeconds);
  const intro = `We have received a request to reset the password of your ${displayName} account ${account.userId}.`;
  const how = `Press "Reset password", or copy the whole link below into your browser, to choose a new password. The link will be effective for ${validity} and works once. If you asked more than once, only the link in the newest email works.`;
  const notYou = 'If you did not ask for this, delete this email: your password stays unchanged. If it keeps happening, tell your delegated administrator.';
  const text = `Dear ${account.name},\n\n${intro}\n\n${how}\n\nReset password:\n${link}\n\n${notYou}\n\nThis email was sent automatically; please do not reply to it.\n`;
  const html = htmlBody(displayName, [`Dear ${escapeHtml(account.name)},`, escapeHtml(intro), escapeHtml(how), ...linkParagraphs('Reset password', link), escapeHtml(notYou)]);
  return { to: account.email, subject: `${displayName}: Forgotten password email`, text, html };
}

/** The notice sent after a reset: when, that every session was signed out, and what to do if it was not them. */
export function passwordChangedEmail(input: { displayName: string; account: Account; changedAt: Date }): MailMessage {
  const { displayName, account } = input;
  const when = `${input.changedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const what = `The password of your ${displayName} account ${account.userId} was changed on ${when} through a password reset. You were signed out everywhere; sign in again with your new password and your second factor.`;
  const notYou = 'If you did not change it, contact your delegated administrator at once: someone may have access to your email.';
  const text = `Dear ${account.name},\n\n${what}\n\n${notYou}\n\nThis email was sent automatically; please do not reply to it.\n`;
  const html = htmlBody(displayName, [`Dear ${escapeHtml(account.name)},`, escapeHtml(what), escapeHtml(notYou)]);
  return { to: account.email, subject: `${displayName}: your password was changed`, text, html };
}

/**
 * The welcome email of an account created by a confirmed change request: subject `<display name>: set your
 * password`, a "Set your password" button, the full link as copyable text, its validity ("effective for 72
 * hours"), and how sign-in works afterwards (user ID, password, one-time code emailed to this address).
 */
export function setPasswordEmail(input: { displayName: string; account: Account; link: string; ttlSeconds: number }): MailMessage {
  const { displayName, account, link } = input;
  const validity = describeDuration(input.ttlSeconds);
  const intro = `Your delegated administrators created a ${displayName} account for you. Your user ID is ${account.userId}.`;
  const how = `Press "Set your password", or copy the whole link below into your browser, to choose your password. The link will be effective for ${validity} and works once.`;
  const then = `Then sign in with your user ID and your password; each sign-in also asks for a one-time code that we email to this address.`;
  const expired = 'If the link has expired, use "Forgot password?" on the sign-in page, or ask your delegated administrator. If you did not expect this email, tell your delegated administrator.';
  const text = `Dear ${account.name},\n\n${intro}\n\n${how}\n\nSet your password:\n${link}\n\n${then}\n\n${expired}\n\nThis email was sent automatically; please do not reply to it.\n`;
  const html = htmlBody(displayName, [`Dear ${escapeHtml(account.name)},`, escapeHtml(intro), escapeHtml(how), ...linkParagraphs('Set your password', link), escapeHtml(then), escapeHtml(expired)]);
  return { to: account.email, subject: `${displayName}: set your password`, text, html };
}
