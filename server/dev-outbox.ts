/**
 * `/dev/outbox`: outside production, the mails written to the outbox folder, newest first and decoded
 * (mailparser), so a newcomer can read their one-time code and follow reset links without a mail server.
 * It carries the IdP's own security headers (CSP without inline style, no framing, no-store): its links are
 * live one-time codes and reset links.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import express from 'express';
import { securityHeaders } from '../idp/index.js';

const template = fileURLToPath(new URL('./views/dev-outbox.ejs', import.meta.url));
const stylesheet = fileURLToPath(new URL('./public/dev-outbox.css', import.meta.url));
const LINK = /https?:\/\/[^\s<>"]+/g;

/** One decoded mail as the page shows it. */
interface OutboxMail {
  file: string;
  to: string;
  subject: string;
  date: string;
  text: string;
  links: string[];
}

async function decode(outboxDir: string, file: string): Promise<OutboxMail> {
  // mailparser (with html-to-text, iconv-lite and its encoders) is loaded when the page is first shown: about
  // 6 MiB of heap that a server nobody opens /dev/outbox on (and every production one) never needs.
  const { simpleParser } = await import('mailparser');
  const parsed = await simpleParser(await readFile(path.join(outboxDir, file)));
  const to = Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? '');
  const text = parsed.text ?? '';
  return { file, to, subject: parsed.subject ?? '(no subject)', date: parsed.date?.toISOString() ?? '', text, links: [...new Set(text.match(LINK) ?? [])] };
}

/**
 * A router serving the newest 20 outbox mails, decoded, on one page (and its stylesheet).
 * @param options - `secure`: the issuer is https (HSTS, as on the IdP's pages); `basePath`: the issuer's path
 *   (`''` at the root), where the router is mounted, for the page's stylesheet link.
 */
export function devOutboxRouter(outboxDir: string, options: { secure?: boolean; basePath?: string } = {}): express.Router {
  const router = express.Router();
  const headers = securityHeaders(options.secure ?? false);
  router.get('/dev/outbox.css', headers, (_req, res) => res.sendFile(stylesheet));
  router.get('/dev/outbox', headers, async (_req, res) => {
    const files = (await readdir(outboxDir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml')).sort().reverse().slice(0, 20);
    const mails = await Promise.all(files.map((file) => decode(outboxDir, file)));
    const html = await ejs.renderFile(template, { outboxDir, mails, basePath: options.basePath ?? '' });
    res.set('Cache-Control', 'no-store').type('html').send(html);
  });
  return router;
}
