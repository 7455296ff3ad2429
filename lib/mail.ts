/**
 * Outgoing mail through nodemailer: SMTP when a URL is configured, otherwise RFC 5322 `.eml` files in an
 * outbox folder plus one log line each, so a laptop needs no mail server.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from './logger.js';
import { randomToken } from './ids.js';

/** One message. `text` is required; `html` is the optional alternative part. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/** Sends mail. Implementations throw when delivery fails; callers decide whether that is fatal. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Where mail goes: an SMTP URL, or an outbox folder. */
export type MailTransportOptions = { from: string; logger: Logger } & ({ smtpUrl: string } | { outboxDir: string });

/**
 * Creates a {@link Mailer}.
 * @throws on `send` when the SMTP server refuses or cannot be reached (nodemailer's error as `cause`).
 */
export function createMailer(options: MailTransportOptions): Mailer {
  const { from, logger } = options;
  if ('smtpUrl' in options) {
    const transport = nodemailer.createTransport(options.smtpUrl);
    return {
      async send(message) {
        const info = await transport.sendMail({ from, ...message });
        logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
      },
    };
  }
  const outboxDir = options.outboxDir;
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(message) {
      const info = await transport.sendMail({ from, ...message });
      await mkdir(outboxDir, { recursive: true });
      const file = path.join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomToken(4)}.eml`);
      await writeFile(file, info.message as Buffer);
      logger.info({ to: message.to, subject: message.subject, file }, 'mail written to outbox');
    },
  };
}
