/**
 * When the database is down or unreachable, oidc-provider's endpoints answer
 * `503 temporarily_unavailable` (RFC 6749 §4.1.2.1's code) with `Retry-After`, not `500 server_error`
 * (design/security.md §12). oidc-provider turns every unexposed error into a 500; its `server_error` event
 * tells us which request failed and why, and this middleware rewrites that answer on the way out. HTML
 * answers are rendered by `renderError` (provider-pages.ts), which makes the same decision.
 */
import { isUnavailable } from '../lib/index.js';
import type { OidcContext, Provider } from './oidc.js';

/** The JSON body of a 503 from a protocol endpoint. */
export const UNAVAILABLE_BODY = {
  error: 'temporarily_unavailable',
  error_description: 'The service is temporarily unavailable; retry in a few seconds.',
} as const;

/** Seconds a client should wait before retrying. */
export const RETRY_AFTER_SECONDS = 5;

/** Title and message of the 503 page people see. */
export const UNAVAILABLE_PAGE = {
  title: 'Temporarily unavailable',
  message: 'The sign-in service is temporarily unavailable. Nothing was changed; please try again in a minute.',
} as const;

/** Installs the rewrite on `provider`. */
export function answerUnavailableWith503(provider: Provider): void {
  const failed = new WeakSet<OidcContext>();
  provider.on('server_error', (ctx: OidcContext, err: unknown) => {
    if (isUnavailable(err)) failed.add(ctx);
  });
  provider.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      failed.add(ctx);
    }
    if (!failed.has(ctx)) return;
    ctx.status = 503;
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    if (typeof ctx.body !== 'string') ctx.body = UNAVAILABLE_BODY;
  });
}
