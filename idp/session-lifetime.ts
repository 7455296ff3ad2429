/**
 * The two lifetimes of the IdP session (NIST SP 800-63B §4.2.3, ASVS V7.3): an idle timeout, which every use
 * of the session renews (`SESSION_TTL_SECONDS`), and an absolute lifetime counted from the sign-in
 * (`SESSION_MAX_AGE_SECONDS`, default 12 hours), which no use renews. Both are oidc-provider's own mechanisms:
 *
 * - `ttl.Session` is a function, so the stored session (and its cookie) never outlives `loginTs + maxAge`, however
 *   often portals authorize silently;
 * - the `login` prompt of the interaction policy gets one more check, `session_max_age`: a session whose sign-in is
 *   older than the absolute lifetime requires the sign-in pages again (password and second factor), and
 *   `prompt=none` gets `login_required`. This holds even in the last second the stored session still lives.
 */
import { oidcInteractionPolicy, type OidcCheckSession, type OidcPrompt } from './oidc.js';

/** The session lifetimes, in seconds. */
export interface SessionLifetime {
  /** Idle timeout: a session unused this long ends. */
  idleSeconds: number;
  /** Absolute lifetime from the sign-in (`loginTs`). */
  maxAgeSeconds: number;
}

const epochSeconds = () => Math.floor(Date.now() / 1000);

/**
 * oidc-provider's `ttl.Session`: the idle timeout, cut so the session expires at the latest `maxAgeSeconds` after
 * its sign-in. oidc-provider needs a positive integer, so a session already past its absolute lifetime gets one
 * second (the `session_max_age` check refuses it meanwhile). A session without a sign-in gets the idle timeout.
 * @returns seconds from now.
 */
export function sessionTtl(lifetime: SessionLifetime): (ctx: unknown, session: { loginTs?: number }) => number {
  return (_ctx, session) => {
    if (typeof session.loginTs !== 'number') return lifetime.idleSeconds;
    const remaining = session.loginTs + lifetime.maxAgeSeconds - epochSeconds();
    return Math.max(1, Math.min(lifetime.idleSeconds, remaining));
  };
}

/** True when `session` is signed in and its sign-in is more than `maxAgeSeconds` old. */
export function isPastMaxAge(session: OidcCheckSession, maxAgeSeconds: number): boolean {
  return Boolean(session.accountId) && session.past(maxAgeSeconds);
}

/**
 * oidc-provider's default interaction policy with the `session_max_age` check added to its `login` prompt (after
 * `no_session`). OIDC Core §3.1.2.6: `prompt=none` then answers `login_required`.
 */
export function interactionPolicy(maxAgeSeconds: number): OidcPrompt[] {
  const { base, Check } = oidcInteractionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  const check = new Check('session_max_age', 'End-User authentication is older than the session lifetime', 'login_required', (ctx) =>
    isPastMaxAge(ctx.oidc.session, maxAgeSeconds) && !ctx.oidc.result?.login ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
  );
  login.checks.add(check, login.checks.findIndex((c) => c.reason === 'no_session') + 1);
  return policy;
}
