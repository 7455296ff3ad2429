/**
 * The short way in for oidc-provider's JSON endpoints (issue 10 §3, "less stack on protocol paths"): token,
 * userinfo (`/me`), JWKS, discovery, introspection, revocation and PAR go straight from the HTTP server to
 * `provider.callback()`, without Express, helmet, cookie parsing, our page routers or their body parsers. What
 * those endpoints need still runs first: the bad-input edge check (the same {@link urlProblem} as
 * reject-control-characters.ts, the same JSON answer) and the security headers of every IdP answer, taken
 * once from the pages' helmet middleware and set as constants (nosniff, CSP, HSTS when https, …).
 * oidc-provider's own middleware (public origin, 503 on an unreachable database, `Cache-Control` on JWKS and
 * discovery, `no-store` on tokens) is untouched. `/auth` and `/session/end` render HTML pages and stay behind
 * the page middleware (see create-idp.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { RequestHandler } from 'express';
import { controlCharacterMessage, urlProblem, type Logger } from '../lib/index.js';
import { loggedPath } from './logged-path.js';
import type { Provider } from './oidc.js';

/** oidc-provider routes that answer JSON to clients and need none of our page middleware. */
const JSON_ROUTES = ['token', 'userinfo', 'jwks', 'introspection', 'revocation', 'pushed_authorization_request'];

/** Discovery's two documents (OIDC Discovery §4, RFC 8414 §3); oidc-provider names both routes `discovery`. */
const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];

/**
 * Handles a request if its path is one of the JSON endpoints; true when it did (the answer is then oidc-provider's
 * or the bad-input 400), false to let the caller pass it on.
 */
export type ProtocolHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Paths (with `basePath`, the issuer's path) of the JSON endpoints `provider` has enabled. */
function jsonPaths(provider: Provider, basePath: string): Set<string> {
  const paths = new Set(DISCOVERY_PATHS.map((p) => basePath + p));
  for (const name of JSON_ROUTES) {
    try {
      paths.add(basePath + provider.pathFor(name, { mountPath: '' }));
    } catch {
      // not enabled in this configuration
    }
  }
  return paths;
}

/** The headers `middleware` (helmet: constant headers, no nonce) sets, read once by running it on a stand-in response. */
function headersOf(middleware: RequestHandler): Array<[string, string]> {
  const headers = new Map<string, string>();
  const res = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  let called = false;
  void middleware({ headers: {}, secure: false } as never, res as never, () => (called = true));
  if (!called) throw new Error('the security-header middleware did not finish synchronously');
  return [...headers];
}

/**
 * Creates the handler.
 * @param deps.headers - the pages' security-header middleware (security-headers.ts); its headers go on every answer.
 */
export function protocolRoutes(deps: { provider: Provider; basePath: string; headers: RequestHandler; logger: Logger }): ProtocolHandler {
  const { basePath, logger } = deps;
  const paths = jsonPaths(deps.provider, basePath);
  const headers = headersOf(deps.headers);
  const callback = deps.provider.callback();
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!paths.has(path)) return false;
    for (const [name, value] of headers) res.setHeader(name, value);
    const problem = q === -1 ? null : urlProblem(path, parseQuery(url.slice(q + 1)));
    if (problem) {
      // Only the query can be at fault: an exact endpoint path holds no escapes.
      const { message } = controlCharacterMessage(problem.kind === 'control_character' ? problem.fields : []);
      logger.info({ status: 400, reason: problem.kind, path: loggedPath(path).slice(0, 200) }, 'request refused');
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: message }));
      return true;
    }
    if (basePath) {
      // As Express mounts a router: oidc-provider reads its mount path from originalUrl (urlFor in discovery).
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
      req.url = url.slice(basePath.length);
    }
    void callback(req, res);
    return true;
  };
}
