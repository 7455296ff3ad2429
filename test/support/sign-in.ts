/**
 * Drives a complete OIDC authorization code flow (PKCE S256, state, nonce) through openid-client as the
 * relying party and the {@link UserAgent} as the person: sign-in page, emailed code from the SMTP capture,
 * callback, token request with ID token validation.
 */
import * as client from 'openid-client';
import type { SmtpCapture } from './smtp-capture.js';
import { otpFrom } from './smtp-capture.js';
import { UserAgent, type Page } from './user-agent.js';

/** The authorization request a test starts. */
export interface StartedAuthorization {
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
  redirectUri: string;
}

/** Builds an authorization URL with fresh PKCE, state and nonce. */
export async function startAuthorization(rp: client.Configuration, redirectUri: string, extra: Record<string, string> = {}): Promise<StartedAuthorization> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: 'openid profile email organization',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, codeVerifier, state, nonce, redirectUri };
}

/** Submits user ID and password on the sign-in page. */
export function submitPassword(ua: UserAgent, page: Page, login: string, password: string): Promise<Page & { redirectedTo?: string }> {
  return ua.submit(page, { 'User ID or email': login, Password: password });
}

/**
 * Signs in from scratch: returns the callback URL (with `code`) the IdP redirected to.
 * @throws when a step does not show the expected page.
 */
export async function signInToCallback(options: { ua: UserAgent; auth: StartedAuthorization; login: string; password: string; email: string; smtp: SmtpCapture }): Promise<URL> {
  const { ua, auth, smtp } = options;
  const stopAt = (next: string) => next.startsWith(auth.redirectUri);
  const signInPage = await ua.follow(auth.url.toString(), {}, stopAt);
  if (signInPage.redirectedTo) return new URL(signInPage.redirectedTo);
  const since = smtp.messages.length;
  const codePage = await submitPassword(ua, signInPage, options.login, options.password);
  if (codePage.status >= 400) throw new Error(`password step answered ${codePage.status}`);
  const mail = await smtp.waitFor(options.email, { since });
  const done = await ua.submit(codePage, { 'One-time code': otpFrom(mail) }, { stopAt });
  if (!done.redirectedTo) throw new Error(`code step did not redirect to the client (status ${done.status})`);
  return new URL(done.redirectedTo);
}

/** Redeems the callback's code with PKCE, state and nonce checks; openid-client validates the ID token. */
export function redeem(rp: client.Configuration, callback: URL, auth: StartedAuthorization) {
  return client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: auth.codeVerifier, expectedState: auth.state, expectedNonce: auth.nonce });
}
