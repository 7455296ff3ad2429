/**
 * Outgoing mail through nodemailer: SMTP when a URL is configured, otherwise RFC 5322 `.eml` files in an
 * outbox folder plus one log line each, so a laptop needs no mail server.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
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
  /** Closes pooled connections, if any (at shutdown). */
  close?(): void;
}

/**
 * Where mail goes: an SMTP URL, or an outbox folder. `timeoutSeconds` (SMTP only, default 10, at most 10) bounds
 * connecting, the server's greeting and each wait for an answer (nodemailer connectionTimeout, greetingTimeout,
 * socketTimeout), so a hung server fails an attempt within it.
 */
export type MailTransportOptions = { from: string; logger: Logger } & ({ smtpUrl: string; timeoutSeconds?: number } | { outboxDir: string } | { transport: MailTransport });

/**
 * A nodemailer transport an embedding host brings: a transporter it made (`nodemailer.createTransport(…)`,
 * left open at close: it is the host's), or anything `nodemailer.createTransport` accepts (SMTP options, a
 * transport plugin such as an SES or JSON transport), made here and closed with the mailer.
 */
export type MailTransport = Transporter | Parameters<typeof nodemailer.createTransport>[0];

/**
 * Creates a {@link Mailer}. Over SMTP it keeps a small pool of connections (`pool: true`), reused across messages.
 * @throws on `send` when the SMTP server refuses, cannot be reached or does not answer within the timeout
 *   (nodemailer's error, with `responseCode` when the server refused).
 */
export function createMailer(options: MailTransportOptions): Mailer {
  const { from, logger } = options;
  if ('transport' in options) {
    const given = options.transport as { sendMail?: unknown };
    const own = typeof given.sendMail !== 'function';
    const transport = own ? nodemailer.createTransport(options.transport as Parameters<typeof nodemailer.createTransport>[0]) : (options.transport as Transporter);
    return {
      async send(message) {
        const info = await transport.sendMail({ from, ...message });
        logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
      },
      close: own ? () => transport.close() : undefined,
    };
  }
  if ('smtpUrl' in options) {
    const timeout = Math.min(10, options.timeoutSeconds ?? 10) * 1000;
    const transport = nodemailer.createTransport({ url: options.smtpUrl, pool: true, maxConnections: 3, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout } as Parameters<typeof nodemailer.createTransport>[0]);
    return {
      async send(message) {
        const info = await transport.sendMail({ from, ...message });
        logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'mail sent');
      },
      close: () => transport.close(),
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
