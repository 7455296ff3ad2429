/**
 * The flows the bench drives, as a relying party (openid-client) and a person (the tests' scripted browser,
 * test/support/user-agent.ts, with a cookie jar and forms found by their labels): a full sign-in of 7 requests
 * (authorize → sign-in page → password → code page → emailed code → back to the authorization endpoint →
 * token), the password POST alone, and raw token-endpoint requests for the refresh-token grant.
 */
import * as client from 'openid-client';
import { redeem, startAuthorization, submitPassword } from '../test/support/sign-in.js';
import { otpFrom, type SmtpCapture } from '../test/support/smtp-capture.js';
import { UserAgent, type Page } from '../test/support/user-agent.js';
import { BENCH_PASSWORD, REDIRECT_URI, type BenchAccount } from './idp.js';
import { expectStatus } from './load.js';

/** A user agent that counts the requests it makes. */
class CountingAgent extends UserAgent {
  requests = 0;
  override request(url: string, init: Parameters<UserAgent['request']>[1] = {}): Promise<Page> {
    this.requests++;
    return super.request(url, init);
  }
}

/** The bench's relying party at one issuer. */
export interface RelyingParty {
  config: client.Configuration;
  issuer: string;
  clientId: string;
  clientSecret: string;
  tokenEndpoint: string;
  userinfoEndpoint: string;
  jwksUri: string;
  discoveryUrl: string;
}

/** Discovers `issuer` (OIDC Discovery 1.0) as client `clientId` with `client_secret_basic`. */
export async function relyingParty(issuer: string, clientId: string, clientSecret: string): Promise<RelyingParty> {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), { execute: [client.allowInsecureRequests] });
  const metadata = config.serverMetadata();
  return {
    config,
    issuer,
    clientId,
    clientSecret,
    tokenEndpoint: metadata.token_endpoint!,
    userinfoEndpoint: metadata.userinfo_endpoint!,
    jwksUri: metadata.jwks_uri!,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
  };
}

const toClient = (next: string) => next.startsWith(REDIRECT_URI);

/** Tokens from the token endpoint, as openid-client returns them. */
export type Tokens = Awaited<ReturnType<typeof redeem>>;

/**
 * A complete sign-in at connect-iam with a fresh cookie jar (so no single sign-on): password, the code emailed
 * to `account`, and the token request; a consent page (which `offline_access` brings) is allowed.
 * @returns the tokens and the number of HTTP requests made.
 * @throws when a step does not show the page it should.
 */
export async function signIn(rp: RelyingParty, account: BenchAccount, smtp: SmtpCapture, extra: Record<string, string> = {}): Promise<{ tokens: Tokens; requests: number }> {
  const ua = new CountingAgent();
  const auth = await startAuthorization(rp.config, REDIRECT_URI, extra);
  const signInPage = await ua.follow(auth.url.toString(), {}, toClient);
  if (signInPage.status !== 200 || !signInPage.html.includes('User ID or email')) throw new Error(`the authorization did not show the sign-in page (status ${signInPage.status})`);
  const since = smtp.messages.length;
  const codePage = await submitPassword(ua, signInPage, account.userId, BENCH_PASSWORD);
  if (codePage.status !== 200 || !codePage.html.includes('One-time code')) throw new Error(`the password step answered ${codePage.status} without the code page`);
  const mail = await smtp.waitFor(account.email, { since, timeoutMs: 30_000 });
  let done = await ua.submit(codePage, { 'One-time code': otpFrom(mail) }, { stopAt: toClient });
  if (!done.redirectedTo && done.html.includes('Allow')) done = await ua.submit(done, {}, { button: 'Allow', stopAt: toClient });
  if (!done.redirectedTo) throw new Error(`the code step did not redirect to the client (status ${done.status})`);
  const tokens = await redeem(rp.config, new URL(done.redirectedTo), auth);
  // The pages' requests, plus the one token request.
  return { tokens, requests: ua.requests + 1 };
}

/** A sign-in at the bare baseline provider, whose interaction signs in and consents at once. */
export async function signInAtBaseline(rp: RelyingParty, extra: Record<string, string> = {}): Promise<Tokens> {
  const ua = new UserAgent();
  const auth = await startAuthorization(rp.config, REDIRECT_URI, extra);
  const page = await ua.follow(auth.url.toString(), {}, toClient);
  if (!page.redirectedTo) throw new Error(`the baseline did not redirect to the client (status ${page.status}): ${page.html.slice(0, 200)}`);
  return redeem(rp.config, new URL(page.redirectedTo), auth);
}

/** A sign-in page of a fresh authorization, ready for the password POST. */
export interface PreparedPassword {
  ua: UserAgent;
  page: Page;
  account: BenchAccount;
}

/** Starts an authorization and loads its sign-in page (2 requests), for {@link postPassword}. */
export async function preparePassword(rp: RelyingParty, account: BenchAccount): Promise<PreparedPassword> {
  const ua = new UserAgent();
  const auth = await startAuthorization(rp.config, REDIRECT_URI);
  const page = await ua.follow(auth.url.toString(), {}, toClient);
  if (page.status !== 200) throw new Error(`the authorization answered ${page.status}`);
  return { ua, page, account };
}

/**
 * The password POST alone (1 request): its answer must be the 303 to the code page; the redirect is not
 * followed. The server emails the code afterwards.
 */
export async function postPassword(prepared: PreparedPassword): Promise<void> {
  const answer = await prepared.ua.submit(prepared.page, { 'User ID or email': prepared.account.userId, Password: BENCH_PASSWORD }, { stopAt: () => true });
  if (answer.status !== 303 || !answer.redirectedTo) throw new Error(`the password POST answered ${answer.status}`);
}

/** `Authorization: Basic` of a client (RFC 6749 §2.3.1). */
export function basicAuth(rp: RelyingParty): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(rp.clientId)}:${encodeURIComponent(rp.clientSecret)}`).toString('base64')}`;
}

/** The token endpoint's answer to a refresh-token grant (RFC 6749 §6), optionally for resource `resource` (RFC 8707). */
export async function refresh(rp: RelyingParty, refreshToken: string, resource?: string): Promise<{ access_token: string; refresh_token?: string; id_token?: string }> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...(resource ? { resource } : {}) }).toString();
  const answer = await expectStatus(rp.tokenEndpoint, { method: 'POST', headers: { authorization: basicAuth(rp), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
  return JSON.parse(answer.body) as { access_token: string; refresh_token?: string };
}
