import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';
import { linkFrom, REGISTERED_PHONE, RESET_SUBJECT, requestReset, setPassword } from './support.js';

const REDIRECT = 'http://localhost:7501/auth/callback';
const NEW_PASSWORD = 'a brand new river of violet stones';

describe('password reset from the sign-in page to a new sign-in', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_IP_LIMIT: '1000' });
    c = await t.registerClient({ clientId: 'reset-flow-client', redirectUri: REDIRECT });
  });
  afterAll(() => t?.close());

  it('links "Forgot password?" from the sign-in page to the form', async () => {
    const ua = new UserAgent();
    const signIn = await ua.follow((await startAuthorization(c.rp, REDIRECT)).url.toString());
    expect(signIn.html).toMatch(/href="\/password\/forgot">Forgot password\?</);
    const form = await ua.request(`${t.issuer}/password/forgot`);
    expect(form.status).toBe(200);
    expect(form.headers.get('cache-control')).toContain('no-store');
    expect(textOf(form.html)).toContain('Mobile phone number');
  });

  it('emails a short link, sets the new password through it, and signs in with the new password and an emailed code; the old one fails', async () => {
    const user = await t.createAccount({ userId: 'flow.user' });
    const since = t.smtp.messages.length;
    const answer = await requestReset(t, user.userId, '852-5555-0000');
    expect(answer.status).toBe(200);
    expect(textOf(answer.html)).toContain('If the details match an account, we have sent an email');

    const mail = await t.smtp.waitFor(user.email, { since });
    expect(mail.subject).toBe(RESET_SUBJECT);
    const link = linkFrom(t, mail);
    expect(link.startsWith(`${t.issuer}/password/reset/`)).toBe(true);
    expect(link.length).toBeLessThan(t.issuer.length + 70);
    expect(mail.text).toContain('effective for 2 hours');
    expect(mail.text).toMatch(/did not ask for this, delete this email/);
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.html).toMatch(/>Reset password</);
    expect(mail.html).toContain(link);
    expect(String(mail.raw.from?.text)).toContain('no-reply@localhost');

    const form = await new UserAgent().request(link);
    expect(form.headers.get('cache-control')).toContain('no-store');
    expect(textOf(form.html)).toContain('Choose a new password for flow.user');
    const done = await setPassword(link, NEW_PASSWORD);
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toMatch(/Your password was changed.*second factor/);
    const notice = await t.smtp.waitFor(user.email, { since, predicate: (m) => m.subject === 'connect-iam: your password was changed' });
    expect(notice.text).toContain('flow.user');

    const ua = new UserAgent();
    const auth = await startAuthorization(c.rp, REDIRECT);
    const oldPassword = await submitPassword(ua, await ua.follow(auth.url.toString()), user.userId, user.password);
    expect(oldPassword.status).toBe(401);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: NEW_PASSWORD, email: user.email, smtp: t.smtp });
    const tokens = await redeem(c.rp, callback, auth);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.claims()?.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));

    const audit = await t.idp.identity.stores.audit.list({ accountId: user.id });
    expect(audit.map((e) => e.type)).toEqual(expect.arrayContaining(['password_reset.requested', 'password_reset.email_sent', 'password_reset.completed']));
  });

  it('builds the link from the configured public URL, not from the Host header', async () => {
    const user = await t.createAccount({ userId: 'flow.host' });
    const ua = new UserAgent();
    const form = await ua.request(`${t.issuer}/password/forgot`);
    const since = t.smtp.messages.length;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.html)![1]!;
    const body = new URLSearchParams({ _csrf: csrf, login: user.email, phone: REGISTERED_PHONE });
    const answer = await ua.request(`${t.issuer}/password/forgot`, { method: 'POST', body, headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } });
    expect(answer.status).toBe(200);
    const mail = await t.smtp.waitFor(user.email, { since });
    expect(mail.text).not.toContain('evil.example');
    expect(linkFrom(t, mail).startsWith(t.issuer)).toBe(true);
  });

  it('refuses a form without its CSRF token (403) and a 1 MB body (413), and changes nothing', async () => {
    const user = await t.createAccount({ userId: 'flow.csrf' });
    const ua = new UserAgent();
    const noToken = await ua.request(`${t.issuer}/password/forgot`, { method: 'POST', body: new URLSearchParams({ login: user.userId, phone: REGISTERED_PHONE }) });
    expect(noToken.status).toBe(403);
    const huge = await ua.request(`${t.issuer}/password/forgot`, { method: 'POST', body: new URLSearchParams({ login: 'x'.repeat(1_000_000), phone: '1' }) });
    expect(huge.status).toBe(413);
    await t.idp.identity.recovery.idle();
    expect(await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'password_reset.requested' })).toEqual([]);
  });
});
