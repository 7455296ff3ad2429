/**
 * Builds the IdP: oidc-provider configured for production, and the Express app that serves our static CSS,
 * home page and interaction pages in front of `provider.callback()`. The caller only listens.
 */
import { fileURLToPath } from 'node:url';
import express from 'express';
import cookieParser from 'cookie-parser';
import type { JWK } from 'jose';
import type { Identity, SftpDecisions, SignInThrottle } from '../identity/index.js';
import type { Clock, Config, Logger } from '../lib/index.js';
import { createAccountClaims } from './account-claims.js';
import { createActingOrganizations } from './acting-organization.js';
import { createConfiguration, PORTAL_API } from './configuration.js';
import { createCsrf } from './csrf.js';
import { securityHeaders } from './security-headers.js';
import { errorPage } from './error-page.js';
import { rejectControlCharacters } from './reject-control-characters.js';
import { refuseNulInAdapter } from './nul-refusing-adapter.js';
import { createLoadExistingGrant } from './grants.js';
import { homePage } from './home.js';
import { interactionPath } from './interaction-urls.js';
import { interactionRouter } from './interactions/router.js';
import { accountRouter } from './account/account-router.js';
import { recoveryRouter } from './recovery/router.js';
import { OidcProvider, type OidcAdapterFactory, type Provider } from './oidc.js';
import { observeProvider } from './provider-events.js';
import { logBackChannelEvents } from './back-channel-logout.js';
import { cacheKeySetAnswers } from './key-set-caching.js';
import { settleAdapterRequests } from './settle-adapter-requests.js';
import { answerUnavailableWith503 } from './unavailable.js';
import { pinPublicOrigin } from './public-origin.js';
import { createProviderPages } from './provider-pages.js';
import { createRestart, type Application } from './restart.js';
import { createViews } from './views.js';
import { protocolRoutes, type ProtocolHandler } from './protocol-routes.js';
import { sftpAuthorizationRouter } from './sftp-authorization.js';

/** What {@link createIdp} needs. */
export interface IdpDeps {
  config: Config;
  identity: Identity;
  /** oidc-provider's adapter: a class or factory called with a model name (storage/'s `createOidcAdapter`). */
  adapter: OidcAdapterFactory;
  /** Per-IP and per-interaction limits on the password and code steps (storage/'s `createSignInThrottle`). */
  signInThrottle: SignInThrottle;
  /** Private signing keys (JWK), newest first; the first of each algorithm signs. */
  jwks: { keys: JWK[] };
  logger: Logger;
  clock: Clock;
  /** Registered applications for the home page (those with an `initiate_login_uri`). */
  listApplications?: () => Promise<Application[]>;
  /** The SFTP gateways' decisions (identity's `createSftpDecisions`): mounts the SFTP authorization API at `/sftp`. */
  sftpDecisions?: SftpDecisions;
}

/** The built IdP. */
export interface Idp {
  app: express.Express;
  provider: Provider;
  /**
   * oidc-provider's JSON endpoints (token, userinfo, JWKS, discovery, introspection, revocation, PAR) without the
   * page middleware: the HTTP server calls it before `app` (`app` runs it first too). See protocol-routes.ts.
   */
  protocol: ProtocolHandler;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/**
 * Creates the IdP. Public URLs come from `config.issuer` (its path, if any, prefixes every route).
 * @throws when oidc-provider refuses the configuration or the keys.
 */
export async function createIdp(deps: IdpDeps): Promise<Idp> {
  const { config, identity, logger } = deps;
  const adapter = refuseNulInAdapter(deps.adapter);
  const basePath = new URL(config.issuer).pathname.replace(/\/$/, '');
  const render = createViews({ displayName: config.displayName, basePath });
  const actingOrganizations = createActingOrganizations(adapter, Math.max(config.ttl.sessionSeconds, config.ttl.refreshTokenSeconds));
  const restartUrl = createRestart(`${basePath}/`);
  const configuration = createConfiguration({
    config,
    adapter,
    jwks: deps.jwks,
    basePath,
    accountClaims: createAccountClaims(identity, actingOrganizations, [PORTAL_API, ...config.introspectedResources]),
    pages: createProviderPages({ render, logger, restartUrl }),
    loadExistingGrant: createLoadExistingGrant(actingOrganizations),
  });
  const provider = new OidcProvider(config.issuer, configuration);
  provider.proxy = config.trustProxyHops > 0;
  provider.maxIpsCount = config.trustProxyHops;
  pinPublicOrigin(provider, config.issuer);
  observeProvider(provider, { identity, logger, clock: deps.clock });
  logBackChannelEvents(provider, logger);
  answerUnavailableWith503(provider);
  settleAdapterRequests(provider, deps.adapter);
  cacheKeySetAnswers(provider, config.jwksMaxAgeSeconds);

  const secure = config.issuer.startsWith('https:');
  const csrf = createCsrf(config.cookieKeys, secure, (uid) => interactionPath(basePath, uid));
  const headers = securityHeaders(secure);
  const protocol = protocolRoutes({ provider, basePath, headers, logger });
  const callback = provider.callback();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxyHops);
  app.use((req, res, next) => protocol(req, res) || next());
  app.use(headers);
  const site = express.Router();
  site.use(rejectControlCharacters({ render, provider, logger }));
  // The authorization and logout endpoints render HTML (helmet's CSP above applies) but need none of our pages.
  const pages = [provider.pathFor('authorization', { mountPath: '' }), provider.pathFor('end_session', { mountPath: '' })];
  site.use((req, res, next) => (isUnder(req.path, pages) ? void callback(req, res) : next()));
  site.use('/assets', express.static(PUBLIC_DIR, { index: false, maxAge: '1h' }));
  site.get('/', homePage({ render, logger, issuer: config.issuer, listApplications: deps.listApplications }));
  if (deps.sftpDecisions) site.use('/sftp', sftpAuthorizationRouter({ provider, decisions: deps.sftpDecisions, logger }));
  site.use(cookieParser(), interactionRouter({ identity, provider, render, csrf, restartUrl, basePath, throttle: deps.signInThrottle }));
  site.use(recoveryRouter({ identity, render, config, basePath }));
  site.use(accountRouter({
    identity, provider, render, issuer: config.issuer, basePath, cookieKeys: config.cookieKeys, secure, listApplications: deps.listApplications,
    sessionMaxAgeSeconds: config.ttl.sessionMaxAgeSeconds, reauthenticationMaxAgeSeconds: config.reauthenticationMaxAgeSeconds,
  }));
  site.use(errorPage({ render, logger, provider, restartUrl }));
  site.use(callback);
  app.use(basePath || '/', site);
  return { app, provider, protocol };
}

/** True when `path` is one of `prefixes` or below it: `/auth` and its `/auth/:uid` resume, `/session/end` and its confirm and success steps. */
function isUnder(path: string, prefixes: string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}
