/**
 * A real SMTP server (smtp-server) on a free local port that keeps every message, parsed with mailparser.
 * The IdP sends to it through nodemailer exactly as it would to a production relay.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A captured message. */
export interface CapturedMail {
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  raw: ParsedMail;
}

/** A running capture. */
export interface SmtpCapture {
  url: string;
  messages: CapturedMail[];
  /** Resolves with the first message to `address` (case-insensitive) matching `predicate` that arrived after `since` (an index into messages). */
  waitFor(address: string, options?: { since?: number; timeoutMs?: number; predicate?: (m: CapturedMail) => boolean }): Promise<CapturedMail>;
  /** Makes the server refuse every message (simulates a mail outage) until set back to false. */
  setRefusing(refusing: boolean): void;
  close(): Promise<void>;
}

/** Starts an SMTP capture on 127.0.0.1 with a random port. */
export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const waiters = new Set<() => void>();
  let refusing = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      if (refusing) {
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 451 })));
        return;
      }
      simpleParser(stream)
        .then((parsed) => {
          const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
          messages.push({ to, subject: parsed.subject ?? '', text: parsed.text ?? '', html: parsed.html || null, raw: parsed });
          for (const wake of waiters) wake();
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(address, options = {}) {
      const { since = 0, timeoutMs = 10_000, predicate = () => true } = options;
      const find = () => messages.slice(since).find((m) => m.to.includes(address.toLowerCase()) && predicate(m));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = find();
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no mail to ${address} within ${timeoutMs} ms (got ${messages.length} in all)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    setRefusing(value) {
      refusing = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The 6-digit code in a sign-in mail. @throws when there is none. */
export function otpFrom(mail: CapturedMail): string {
  const match = /\b(\d{6})\b/.exec(mail.text);
  if (!match) throw new Error(`no 6-digit code in mail "${mail.subject}"`);
  return match[1]!;
}
