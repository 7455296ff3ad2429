/**
 * Refresh tokens (issue 11 §1), with openid-client as the relying party: a first-party client that asks for
 * `offline_access` gets one without a consent page; a third-party client only through consent; every use
 * rotates it (RFC 9700 §4.14.2); a rotated token presented again revokes the whole grant and is audited; and
 * the refresh token dies with the account's suspension, a password reset and RP-initiated logout.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestLink, setPassword } from '../recovery/support.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const FIRST = 'http://localhost:7811/cb';
const THIRD = 'http://localhost:7812/cb';
const OFFLINE = { scope: 'openid profile offline_access' };

let t: TestIdp;
let first: Awaited<ReturnType<TestIdp['registerClient']>>;
let third: client.Configuration;

beforeAll(async () => {
  t = await startTestIdp();
  first = await t.registerClient({ clientId: 'rt-first-party', redirectUri: FIRST, postLogoutRedirectUri: 'http://localhost:7811/' });
  const created = await t.idp.clients.create({ clientId: 'rt-third-party', redirectUris: [THIRD], postLogoutRedirectUris: [], firstParty: false });
  third = await client.discovery(new URL(t.issuer), created.clientId, created.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
});
afterAll(() => t?.close());

let n = 0;
/** A fresh account signed in at the first-party client asking for offline_access; returns its tokens. */
async function firstPartyTokens(ua = new UserAgent()) {
  const user = await t.createAccount({ userId: `rt.user${++n}` });
  const auth = await startAuthorization(first.rp, FIRST, OFFLINE);
  const callback = await signInToCallback({ ua, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
  return { user, ua, tokens: await redeem(first.rp, callback, auth) };
}

const refresh = (token: string) => client.refreshTokenGrant(first.rp, token);

describe('refresh tokens for first-party clients', () => {
  it('issues a refresh token to a first-party client that asks for offline_access, with no consent page and no prompt=consent (none when it does not ask)', async () => {
    const { tokens } = await firstPartyTokens();
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope?.split(' ')).toContain('offline_access');
    const refreshed = await refresh(tokens.refresh_token!);
    expect(refreshed.claims()?.sub).toBe(tokens.claims()?.sub);

    // None when the first-party client does not ask for offline_access.
    const user = await t.createAccount({ userId: `rt.plain${++n}` });
    const auth = await startAuthorization(first.rp, FIRST, { scope: 'openid profile' });
    const plain = await redeem(first.rp, await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp }), auth);
    expect(plain.refresh_token).toBeUndefined();
  });

  it('keeps the consent page for a third-party client: offline_access needs prompt=consent and the End-User’s Allow', async () => {
    const user = await t.createAccount({ userId: `rt.third${++n}` });
    const ua = new UserAgent();
    const stopAt = (next: string) => next.startsWith(THIRD);
    const auth = await startAuthorization(third, THIRD, { ...OFFLINE, prompt: 'consent' });
    const since = t.smtp.messages.length;
    const codePage = await submitPassword(ua, await ua.follow(auth.url.toString()), user.userId, user.password);
    const consent = await ua.submit(codePage, { 'One-time code': otpFrom(await t.smtp.waitFor(user.email, { since })) }, { stopAt });
    expect(consent.redirectedTo).toBeUndefined();
    expect(textOf(consent.html)).toContain('Allow access?');
    expect(textOf(consent.html)).toContain('Access while you are not using it');
    const done = await ua.submit(consent, {}, { button: 'Allow', stopAt });
    const tokens = await redeem(third, new URL(done.redirectedTo!), auth);
    expect(tokens.refresh_token).toBeTruthy();

    // Without prompt=consent the third-party client's offline_access is dropped (OIDC Core §11): no refresh token.
    const again = await startAuthorization(third, THIRD, OFFLINE);
    const sso = await ua.follow(again.url.toString(), {}, stopAt);
    const plain = await redeem(third, new URL(sso.redirectedTo!), again);
    expect(plain.refresh_token).toBeUndefined();

    // The same request from a first-party client in the same session gets one, with no page.
    const own = await startAuthorization(first.rp, FIRST, OFFLINE);
    const ownSso = await ua.follow(own.url.toString(), {}, (next) => next.startsWith(FIRST));
    expect((await redeem(first.rp, new URL(ownSso.redirectedTo!), own)).refresh_token).toBeTruthy();
  });
});

describe('rotation and reuse detection (RFC 9700 §4.14.2)', () => {
  it('rotates the refresh token on every use', async () => {
    const { tokens } = await firstPartyTokens();
    const second = await refresh(tokens.refresh_token!);
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    const third = await refresh(second.refresh_token!);
    expect(third.refresh_token).not.toBe(second.refresh_token);
  });

  it('revokes the whole grant when a rotated refresh token is presented again, and records refresh_token.reuse_detected', async () => {
    const { user, tokens } = await firstPartyTokens();
    const rotated = await refresh(tokens.refresh_token!);
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The token the rotation issued dies with the grant, and so does its access token.
    await expect(refresh(rotated.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const userinfo = await fetch(first.rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${rotated.access_token}` } });
    expect(userinfo.status).toBe(401);
    const [event] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'refresh_token.reuse_detected' });
    expect(event?.data).toMatchObject({ clientId: 'rt-first-party' });
    expect(event?.data.grantId).toEqual(expect.any(String));
  });

  it('lets one of two concurrent uses of a refresh token win, revokes the grant and records the reuse', async () => {
    const { user, tokens } = await firstPartyTokens();
    const results = await Promise.allSettled([refresh(tokens.refresh_token!), refresh(tokens.refresh_token!)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won.length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.status === 'rejected')).not.toHaveLength(0);
    for (const r of won) await expect(refresh(r.value.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'refresh_token.reuse_detected' })).not.toHaveLength(0);
  });
});

describe('a refresh token dies with what it depends on', () => {
  it('ends at RP-initiated logout of the session it was issued in', async () => {
    const { user, ua, tokens } = await firstPartyTokens();
    const endSession = client.buildEndSessionUrl(first.rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://localhost:7811/' });
    const logoutPage = await ua.follow(endSession.toString());
    const after = await ua.submit(logoutPage, {}, { button: 'Sign out', stopAt: (next) => next.startsWith('http://localhost:7811/') });
    expect(after.redirectedTo).toBe('http://localhost:7811/');
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const [event] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.signed_out' });
    expect(event?.data).toMatchObject({ offlineGrants: 1 });
  });

  it('outlives a logout of another session of the same person', async () => {
    const { user, tokens } = await firstPartyTokens();
    const other = new UserAgent();
    const auth = await startAuthorization(first.rp, FIRST);
    const otherTokens = await redeem(first.rp, await signInToCallback({ ua: other, auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp }), auth);
    const logoutPage = await other.follow(client.buildEndSessionUrl(first.rp, { id_token_hint: otherTokens.id_token!, post_logout_redirect_uri: 'http://localhost:7811/' }).toString());
    await other.submit(logoutPage, {}, { button: 'Sign out', stopAt: (next) => next.startsWith('http://localhost:7811/') });
    expect((await refresh(tokens.refresh_token!)).refresh_token).toBeTruthy();
  });

  it('ends when the account is suspended', async () => {
    const organizationId = await t.organization();
    const da1 = await t.createAccount({ userId: `rt.da1.${++n}`, delegatedAdministrator: true });
    const da2 = await t.createAccount({ userId: `rt.da2.${n}`, delegatedAdministrator: true });
    const { user, tokens } = await firstPartyTokens();
    const service = t.idp.identity.changeRequests;
    const draft = await service.createDraft({ accountId: da1.id }, { organizationId, type: 'suspend_account', payload: { accountId: user.id } });
    await service.submit({ accountId: da1.id }, draft.id);
    const claimed = await service.claim({ accountId: da2.id }, draft.id);
    expect((await service.confirm({ accountId: da2.id }, draft.id, claimed.version)).status).toBe('completed');
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('ends with a password reset', async () => {
    const { user, tokens } = await firstPartyTokens();
    const { link } = await requestLink(t, user.userId, user.email);
    expect((await setPassword(link, 'a new password after the reset')).status).toBe(200);
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
