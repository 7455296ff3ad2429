/**
 * Reading and writing the adapter's cookies without a cookie-parsing middleware (RFC 6265 §4).
 */
import type { CookieOptions, Request, Response } from 'express';

/** The value of cookie `name` on the request, or undefined. Malformed percent-encoding reads as undefined. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Attributes of every cookie the adapter sets: HttpOnly, SameSite=Lax, Secure when asked. */
export function cookieAttributes(secure: boolean, path: string): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure, path };
}

/** Sets an HttpOnly, SameSite=Lax cookie that expires after `ttlSeconds`. */
export function writeCookie(res: Response, name: string, value: string, opts: { secure: boolean; path: string; ttlSeconds: number }): void {
  res.cookie(name, value, { ...cookieAttributes(opts.secure, opts.path), maxAge: opts.ttlSeconds * 1000 });
}

/** Removes a cookie set with the same name and path. */
export function clearCookie(res: Response, name: string, opts: { secure: boolean; path: string }): void {
  res.clearCookie(name, cookieAttributes(opts.secure, opts.path));
}
