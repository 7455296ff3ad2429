/**
 * The console under a path prefix (`ADMIN_CONSOLE_URL=https://portal.example.com/admin`): its pages, forms and
 * handlers write root-relative URLs (`/accounts`, `/operator/requests`, `/static/console.css`) as if the console
 * were at the origin's root, and this is the one place that puts the prefix in front of them. It is taken from
 * the configured URL, never from the request. At the root (`basePath` `''`) nothing changes.
 */
import type { RequestHandler } from 'express';

/** The path of the console's public URL without the trailing slash: `''` at the root, e.g. `/admin`. */
export function basePathOf(baseUrl: string): string {
  return new URL(baseUrl).pathname.replace(/\/+$/, '');
}

/**
 * True for a console-relative path (`/x`) that still needs `basePath`: not a scheme-relative URL (`//host/x`), not
 * an absolute one, and not one already under `basePath` (portal-adapters' sign-in routes write their own prefix;
 * the console has no route of its own named like its mount path).
 */
function needsPrefix(url: string, basePath: string): boolean {
  if (!url.startsWith('/') || url.startsWith('//') || url.startsWith('/\\')) return false;
  return url !== basePath && !url.startsWith(`${basePath}/`) && !url.startsWith(`${basePath}?`);
}

/** Root-relative URL attributes in HTML our views wrote. EJS escapes `"` in data (`&#34;`), so only markup matches. */
const URL_ATTRIBUTE = /\b(href|action|src)="\/(?![/\\])/g;

/** `html` with `basePath` before every root-relative `href`, `action` and `src`. */
export function prefixUrlsInHtml(html: string, basePath: string): string {
  return html.replace(URL_ATTRIBUTE, `$1="${basePath}/`);
}

/**
 * Middleware: `res.redirect`/`res.location` and `res.render` of later handlers put `basePath` before the
 * root-relative URLs they send. Mount first. A no-op when `basePath` is `''`.
 */
export function consoleRelativeUrls(basePath: string): RequestHandler {
  return (req, res, next) => {
    if (!basePath) return next();
    const location = res.location.bind(res);
    res.location = (url: string) => location(needsPrefix(url, basePath) ? `${basePath}${url}` : url);
    const render = res.render.bind(res);
    res.render = ((view: string, options?: object | ((err: Error, html: string) => void), callback?: (err: Error, html: string) => void) => {
      const done = typeof options === 'function' ? options : callback;
      const locals = typeof options === 'function' ? {} : (options ?? {});
      render(view, locals, (error: Error | null, html: string) => {
        if (error) return done ? done(error, html) : req.next?.(error);
        const prefixed = prefixUrlsInHtml(html, basePath);
        if (done) return done(error as unknown as Error, prefixed);
        res.send(prefixed);
      });
    }) as typeof res.render;
    next();
  };
}
