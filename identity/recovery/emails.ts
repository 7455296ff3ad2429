/**
 * The two emails of password recovery: the reset link ("Forgotten password email") and the notice that the
 * password was changed. Plain text and HTML alternatives; every value placed in HTML is escaped.
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
  const button = `<a href="${escapeHtml(link)}" style="display:inline-block;background:#0b5394;color:#ffffff;text-decoration:none;font-weight:bold;padding:12px 24px;border-radius:4px">Reset password</a>`;
  const html = htmlBody(displayName, [
    `Dear ${escapeHtml(account.name)},`,
    escapeHtml(intro),
    escapeHtml(how),
    button,
    `Or copy this link into your browser:<br><span style="word-break:break-all;font-family:monospace">${escapeHtml(link)}</span>`,
    escapeHtml(notYou),
  ]);
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
