/**
 * ASVS 5.0 V7.4.3: changing the password, or removing or replacing the authenticator app on /account, ends every
 * other IdP session and grant of the account (their refresh and access tokens die, portals get a back-channel
 * logout token naming the ended session's `sid`), while the session the change was made from goes on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as cheerio from 'cheerio';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CODE_LABEL, ManualClock, oathtool, registerApp } from '../support/authenticator.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7741/auth/callback';
const stopAt = (next: string) => next.startsWith(REDIRECT);
const NEW_PASSWORD = 'a brand new long passphrase';

/** Collects the logout tokens posted to it (OIDC Back-Channel Logout 1.0 §2.5), decoded. */
async function startLogoutReceiver(): Promise<{ server: Server; url: string; tokens: Record<string, unknown>[] }> {
  const tokens: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const jwt = new URLSearchParams(body).get('logout_token') ?? '';
      tokens.push(JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/backchannel-logout`, tokens };
}

describe('a credential change on /account ends the other sessions of the account and keeps this one', () => {
  let t: TestIdp;
  let rp: client.Configuration;
  let receiver: Awaited<ReturnType<typeof startLogoutReceiver>>;
  const clock = new ManualClock();

  beforeAll(async () => {
    receiver = await startLogoutReceiver();
    t = await startTestIdp({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: new URL(receiver.url).host }, { clock });
    const created = await t.idp.clients.create({ clientId: 'sessions-portal', redirectUris: [REDIRECT], postLogoutRedirectUris: [], backchannelLogoutUri: receiver.url, firstParty: true });
    rp = await client.discovery(new URL(t.issuer), created.clientId, created.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  });
  afterAll(async () => {
    await t?.close();
    receiver?.server.close();
  });

  /** Signs in (emailed code, or the app's code at the clock's next step) with `offline_access`, and redeems the code. */
  async function signIn(user: { userId: string; email: string; password: string }, appSecret?: string) {
    const ua = new UserAgent();
    const auth = await startAuthorization(rp, REDIRECT, { scope: 'openid profile offline_access', prompt: 'consent' });
    const since = t.smtp.messages.length;
    const second = await submitPassword(ua, await ua.follow(auth.url.toString()), user.userId, user.password);
    clock.advance(30);
    const code: Record<string, string> = appSecret ? { [APP_CODE_LABEL]: oathtool(appSecret, clock.now()) } : { 'One-time code': otpFrom(await t.smtp.waitFor(user.email, { since })) };
    const consent = await ua.submit(second, code, { stopAt });
    const done = consent.redirectedTo ? consent : await ua.submit(consent, {}, { button: 'Allow', stopAt });
    const tokens = await redeem(rp, new URL(done.redirectedTo!), auth);
    expect(tokens.refresh_token).toBeTruthy();
    return { ua, tokens, sid: tokens.claims()!.sid as string };
  }

  const userinfo = (accessToken: string) => fetch(rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
  const singleSignOn = async (ua: UserAgent) => (await ua.follow((await startAuthorization(rp, REDIRECT)).url.toString(), {}, stopAt)).redirectedTo !== undefined;

  /** Two browsers signed in; `change` runs on /account in the second one. Then checks both. */
  async function expectOnlyOtherSessionEnded(userId: string, change: (ua: UserAgent, page: Page, user: { password: string }, secret?: string) => Promise<void>, withApp = false) {
    const user = await t.createAccount({ userId });
    const secret = withApp ? await registerApp(t, user.id, clock) : undefined;
    const other = await signIn(user, secret);
    const current = await signIn(user, secret);
    expect(await singleSignOn(other.ua)).toBe(true);
    const logoutsBefore = receiver.tokens.length;

    await change(current.ua, await current.ua.follow(`${t.issuer}/account`), user, secret);

    // The other browser: signed out, its tokens revoked, its portal told (by its session's sid).
    expect(await singleSignOn(other.ua)).toBe(false);
    await expect(client.refreshTokenGrant(rp, other.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await userinfo(other.tokens.access_token)).status).toBe(401);
    const logouts = receiver.tokens.slice(logoutsBefore);
    expect(logouts.map((l) => [l.sub, l.sid])).toEqual([[user.id, other.sid]]);
    // This browser: still signed in, its refresh token still works.
    expect(await singleSignOn(current.ua)).toBe(true);
    expect((await client.refreshTokenGrant(rp, current.tokens.refresh_token!)).access_token).toBeTruthy();
    expect((await current.ua.follow(`${t.issuer}/account`)).status).toBe(200);
  }

  it('after a password change', async () => {
    await expectOnlyOtherSessionEnded('sessions.password', async (ua, page, user) => {
      const changed = await ua.submit(page, { 'Current password': user.password, 'New password': NEW_PASSWORD, 'New password again': NEW_PASSWORD });
      expect(textOf(changed.html)).toContain('Your password was changed.');
    });
    const [event] = await t.idp.identity.stores.audit.list({ type: 'account.password_changed', limit: 1 });
    expect(event?.data).toMatchObject({ grants: 1, sessions: 1, clients: ['sessions-portal'] });
  });

  it('after removing the authenticator app', async () => {
    await expectOnlyOtherSessionEnded('sessions.remove', async (ua, page, _user, secret) => {
      clock.advance(30);
      const removed = await ua.submit(page, { 'Current code to remove the app': oathtool(secret!, clock.now()) }, { button: 'Remove app' });
      expect(textOf(removed.html)).toContain('Your authenticator app was removed.');
    }, true);
  });

  it('after replacing the authenticator app', async () => {
    await expectOnlyOtherSessionEnded('sessions.replace', async (ua, page, _user, secret) => {
      clock.advance(30);
      const qr = await ua.submit(page, { 'Current code to replace the app': oathtool(secret!, clock.now()) }, { button: 'Replace app' });
      const newSecret = cheerio.load(qr.html)('#authenticator-secret').attr('data-secret')!;
      const replaced = await ua.submit(qr, { 'Login using verification code': oathtool(newSecret, clock.now()) });
      expect(textOf(replaced.html)).toContain('Codes from the previous app no longer work.');
    }, true);
  });
});
