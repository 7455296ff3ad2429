import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization, submitPassword, type StartedAuthorization } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { UserAgent } from '../support/user-agent.js';
import { requestLink, setPassword } from './support.js';

const REDIRECT = 'http://localhost:7502/auth/callback';
const stopAt = (next: string) => next.startsWith(REDIRECT);

/** Signs in with password and emailed code, then allows the consent that `offline_access` needs (OIDC Core §11). */
async function signInWithConsent(ua: UserAgent, auth: StartedAuthorization, user: { userId: string; password: string; email: string }, t: TestIdp): Promise<URL> {
  const since = t.smtp.messages.length;
  const codePage = await submitPassword(ua, await ua.follow(auth.url.toString()), user.userId, user.password);
  const consent = await ua.submit(codePage, { 'One-time code': otpFrom(await t.smtp.waitFor(user.email, { since })) }, { stopAt });
  const done = consent.redirectedTo ? consent : await ua.submit(consent, {}, { button: 'Allow', stopAt });
  if (!done.redirectedTo) throw new Error(`no redirect to the client after consent (status ${done.status})`);
  return new URL(done.redirectedTo);
}

describe('after a password reset', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_IP_LIMIT: '1000' });
    c = await t.registerClient({ clientId: 'after-reset-client', redirectUri: REDIRECT });
  });
  afterAll(() => t?.close());

  it('the lockout is cleared and the person signs in with the new password and an emailed code', async () => {
    const user = await t.createAccount({ userId: 'after.locked' });
    for (let i = 0; i < 5; i++) await t.idp.identity.passwordSignIn.verifyPassword(user.userId, `wrong password ${i}`);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
    expect((await t.idp.identity.passwordSignIn.verifyPassword(user.userId, user.password)).outcome).toBe('locked');

    const { link } = await requestLink(t, user.userId, user.email);
    expect((await setPassword(link, 'unlocked by a reset link')).status).toBe(200);
    await t.idp.identity.recovery.idle(); // the "password changed" notice is out before the next sign-in's code
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).toBeNull();
    const [unlocked] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.unlocked' });
    expect(unlocked?.actor).toBe('password_reset');
    const auth = await startAuthorization(c.rp, REDIRECT);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: 'unlocked by a reset link', email: user.email, smtp: t.smtp });
    expect((await redeem(c.rp, callback, auth)).claims()?.sub).toBe(user.id);
  });

  it('sessions, access tokens and refresh tokens issued before the reset stop working', async () => {
    const user = await t.createAccount({ userId: 'after.sessions' });
    const ua = new UserAgent();
    const auth = await startAuthorization(c.rp, REDIRECT, { scope: 'openid profile offline_access', prompt: 'consent' });
    const tokens = await redeem(c.rp, await signInWithConsent(ua, auth, user, t), auth);
    expect(tokens.refresh_token).toBeTruthy();
    const userinfo = c.rp.serverMetadata().userinfo_endpoint!;
    const bearer = (token: string) => fetch(userinfo, { headers: { authorization: `Bearer ${token}` } });
    expect((await bearer(tokens.access_token)).status).toBe(200);
    const refreshed = await client.refreshTokenGrant(c.rp, tokens.refresh_token!);
    // Before the reset, single sign-on: a new authorization goes straight back to the client.
    const sso = await startAuthorization(c.rp, REDIRECT);
    expect((await ua.follow(sso.url.toString(), {}, stopAt)).redirectedTo).toBeTruthy();

    const { link } = await requestLink(t, user.userId, user.email);
    expect((await setPassword(link, 'every session ends here')).status).toBe(200);

    expect((await bearer(tokens.access_token)).status).toBe(401);
    expect((await bearer(refreshed.access_token)).status).toBe(401);
    await expect(client.refreshTokenGrant(c.rp, refreshed.refresh_token ?? tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const again = await startAuthorization(c.rp, REDIRECT);
    const page = await ua.follow(again.url.toString(), {}, stopAt);
    expect(page.redirectedTo).toBeUndefined();
    expect(page.html).toContain('User ID or email');
    const [completed] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'password_reset.completed' });
    expect(completed?.data).toMatchObject({ grants: 1, sessions: 1, wasLocked: false });
  });
});
