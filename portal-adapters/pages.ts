/**
 * The few pages the adapter itself answers with (sign-in failure, access denied). Plain HTML with every
 * value escaped; applications replace the 403 page with `onDenied`.
 */
import type { Request, Response } from 'express';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** What a page says. `link` is an application-relative URL offered as the way on. */
export interface PageContent {
  title: string;
  message: string;
  link?: { href: string; label: string };
}

/** A small, phone-friendly HTML page. */
export function renderPage({ title, message, link }: PageContent): string {
  const action = link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5">
<main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${action}</main></body></html>`;
}

/** True when the client asked for JSON rather than a page (`Accept: application/json`). */
export function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

/** Answers `status` with a page, or with `{ error, message, ...details }` JSON when the client prefers JSON. */
export function sendProblem(req: Request, res: Response, status: number, error: string, content: PageContent, details: Record<string, string> = {}): void {
  res.status(status).set('Cache-Control', 'no-store');
  if (wantsJson(req)) res.json({ error, message: content.message, ...details });
  else res.type('html').send(renderPage(content));
}
