/**
 * Authenticator app helpers for tests: codes from an independent RFC 6238 implementation (Debian's
 * `oathtool`), a movable clock, registration through the identity service, and the app sign-in flow
 * through a {@link UserAgent}.
 */
import { execFileSync } from 'node:child_process';
import type { Clock } from '../../lib/index.js';
import type { TestIdp } from './harness.js';
import { startAuthorization, submitPassword, type StartedAuthorization } from './sign-in.js';
import { UserAgent, type Page } from './user-agent.js';
import type * as client from 'openid-client';

/** The label of the app code field on the sign-in page. */
export const APP_CODE_LABEL = 'Code from your authenticator app';

/** The TOTP code `oathtool --totp -b SECRET --now @<epoch>` gives at `at` (SHA-1, 6 digits, 30 s). */
export function oathtool(secret: string, at: Date): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return execFileSync(process.env.OATHTOOL_PATH ?? '/usr/bin/oathtool', ['--totp', '-b', secret, '--now', `@${epoch}`], { encoding: 'utf8' }).trim();
}

/** A clock tests move by hand; starts at `start` (default: now, aligned to the start of a 30-second step + 10 s). */
export class ManualClock implements Clock {
  private current: number;
  constructor(start = Math.floor(Date.now() / 30_000) * 30_000 + 10_000) {
    this.current = start;
  }
  now(): Date {
    return new Date(this.current);
  }
  /** Moves time forward by `seconds`. */
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
  set(at: Date): void {
    this.current = at.getTime();
  }
}

/**
 * Registers an app for `accountId` through the identity service, confirming it with oathtool's code at the
 * server clock's now. Returns the Base32 secret.
 */
export async function registerApp(t: TestIdp, accountId: string, clock: Clock): Promise<string> {
  const { identity } = t.idp;
  const view = await identity.accounts.findAccount(accountId);
  const setup = await identity.authenticators.beginRegistration(view!.account, 'account_page');
  const result = await identity.authenticators.completeRegistration(view!.account, oathtool(setup.secret, clock.now()));
  if (result.outcome !== 'ok') throw new Error(`registration failed: ${result.outcome}`);
  return setup.secret;
}

/** A sign-in stopped at the second-factor page: the user agent, its authorization and the page. */
export interface AtSecondFactor {
  ua: UserAgent;
  auth: StartedAuthorization;
  page: Page;
}

/** Starts a sign-in with a fresh user agent and passes the password step. */
export async function passwordStep(rp: client.Configuration, redirectUri: string, login: string, password: string): Promise<AtSecondFactor> {
  const ua = new UserAgent();
  const auth = await startAuthorization(rp, redirectUri);
  const signInPage = await ua.follow(auth.url.toString());
  const page = await submitPassword(ua, signInPage, login, password);
  if (page.status !== 200) throw new Error(`password step answered ${page.status}`);
  return { ua, auth, page };
}

/** Submits an app code on the app code page; `redirectedTo` is set when the IdP sent the browser back to the client. */
export function submitAppCode(at: AtSecondFactor, code: string) {
  return at.ua.submit(at.page, { [APP_CODE_LABEL]: code }, { stopAt: (next) => next.startsWith(at.auth.redirectUri) });
}
