/**
 * `/operator/mail`: email the outbox could not deliver yet — messages retrying after a failed attempt and those
 * given up (`mail.delivery_failed`, also in the audit log) — with purpose, masked recipient, attempts, the mail
 * server's last answer, the next attempt and when it was queued. Read-only; bodies are never shown.
 */
import express from 'express';
import { formatInstant, type Identity } from '../identity/index.js';
import { renderOperator } from './operator-forms.js';

const PURPOSES: Record<string, string> = {
  email_otp: 'Sign-in code',
  reset_link: 'Password reset link',
  set_password_link: 'Set-password link',
  notification: 'Notification',
};

/** Routes of the undelivered-mail screen (mounted under `/operator`). */
export function operatorMailRoutes(identity: Identity, timeZone: string): express.Router {
  const router = express.Router();
  router.get('/mail', async (_req, res) => {
    const rows = (await identity.listUndeliveredMail(200)).map((m) => ({
      purpose: PURPOSES[m.purpose] ?? m.purpose,
      to: m.to,
      subject: m.subject ?? '—',
      attempts: m.attempts,
      lastError: m.lastError ?? '—',
      status: m.status === 'failed' ? 'Given up' : 'Retrying',
      nextAttempt: m.status === 'failed' ? '—' : formatInstant(m.nextAttemptAt, timeZone),
      createdAt: formatInstant(m.createdAt, timeZone),
    }));
    renderOperator(res, 'operator-mail', { title: 'Undelivered mail', rows, timeZone });
  });
  return router;
}
