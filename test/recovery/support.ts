/**
 * Steps of password recovery as a person takes them: the "Forgot password?" form, the emailed link from the
 * real SMTP capture, the new-password form.
 */
import type { TestIdp } from '../support/harness.js';
import type { CapturedMail } from '../support/smtp-capture.js';
import { UserAgent, type Page } from '../support/user-agent.js';

/** The phone number the harness gives every account. */
export const REGISTERED_PHONE = '+852 5555 0000';

/** The subject of reset emails, with the harness's display name. */
export const RESET_SUBJECT = 'connect-iam: Forgotten password email';

/** Opens the "Forgot password?" form and submits it. */
export async function requestReset(t: TestIdp, login: string, phone: string, ua = new UserAgent()): Promise<Page> {
  const form = await ua.request(`${t.issuer}/password/forgot`);
  return ua.submit(form, { 'User ID or email': login, 'Mobile phone number': phone });
}

/** The reset link in a reset email's text. @throws when there is none. */
export function linkFrom(t: TestIdp, mail: CapturedMail): string {
  const match = new RegExp(`${t.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/password/reset/[A-Za-z0-9_-]+`).exec(mail.text);
  if (!match) throw new Error(`no reset link in "${mail.subject}"`);
  return match[0];
}

/** Requests a reset for `email`'s account and returns the link of the email that arrives. */
export async function requestLink(t: TestIdp, login: string, email: string): Promise<{ link: string; mail: CapturedMail }> {
  const since = t.smtp.messages.length;
  const page = await requestReset(t, login, REGISTERED_PHONE);
  if (page.status !== 200) throw new Error(`forgot form answered ${page.status}`);
  const mail = await t.smtp.waitFor(email, { since, predicate: (m) => m.subject === RESET_SUBJECT });
  // The link supersedes older ones right after its delivery: let that finish before the test looks at them.
  await t.idp.identity.recovery.idle();
  return { link: linkFrom(t, mail), mail };
}

/** Opens the link and submits a new password (twice). Returns the form page itself when the link shows no form. */
export async function setPassword(link: string, password: string, options: { confirm?: string; ua?: UserAgent } = {}): Promise<Page> {
  const ua = options.ua ?? new UserAgent();
  const form = await ua.request(link);
  if (form.status !== 200) return form;
  return ua.submit(form, { 'New password': password, 'Confirm new password': options.confirm ?? password });
}
