import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lib/index.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization, submitPassword } from '../support/sign-in.js';
import type { CapturedMail } from '../support/smtp-capture.js';
import { textOf, UserAgent } from '../support/user-agent.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

const REDIRECT = 'http://localhost:7531/auth/callback';
const SUBJECT = 'connect-iam: set your password';
const NEW_PASSWORD = 'seven quiet harbours under amber lamps';
const HOURS_72 = 72 * 3600;

describe('a new account sets its password from the email sent when its creation is confirmed', () => {
  let t: TestIdp;
  let c: TestConsole;
  let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
  let maker: { id: string; userId: string };
  let checker: { id: string; userId: string };
  let organizationId: string;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    rp = (await t.registerClient({ clientId: 'new-user-portal', redirectUri: REDIRECT })).rp;
    maker = await t.createAccount({ userId: 'nu.maker', delegatedAdministrator: true });
    checker = await t.createAccount({ userId: 'nu.checker', delegatedAdministrator: true });
    organizationId = await t.organization();
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const post = async (who: { id: string; userId: string }, path: string, form: Record<string, string> = {}) =>
    request(c.app).post(path).set('Cookie', await c.cookieFor(who, 'tok')).type('form').send({ _csrf: 'tok', ...form });

  /** DA 1 submits a create_account request; DA 2 claims and confirms it through the console. Returns the confirmation's answer. */
  async function createThroughConsole(userId: string, email: string) {
    const draft = await t.idp.identity.changeRequests.createDraft({ accountId: maker.id }, { organizationId, type: 'create_account', payload: { userId, name: `New ${userId}`, email, phone: '+852 5555 0188', functions: ['EU_SettlementDepository'] } });
    const submitted = await t.idp.identity.changeRequests.submit({ accountId: maker.id }, draft.id);
    expect((await post(checker, `/requests/${draft.id}/claim`)).status).toBe(303);
    const confirmed = await post(checker, `/requests/${draft.id}/confirm`, { version: String(submitted.version) });
    return { confirmed, reference: submitted.reference! };
  }

  /** The set-password link: the line of the email's text that starts with the IdP's public URL. */
  const linkIn = (mail: CapturedMail) => {
    const link = mail.text.split('\n').find((line) => line.startsWith(`${t.issuer}/password/set/`));
    if (!link) throw new Error(`no set-password link in "${mail.subject}"`);
    return link.trim();
  };

  /** Opens the link and submits the form; returns the answer (or the link page itself when it shows no form). */
  async function setPasswordThrough(link: string, password: string, confirm = password) {
    const ua = new UserAgent();
    const form = await ua.request(link);
    if (form.status !== 200) return form;
    return ua.submit(form, { 'New password': password, 'Confirm new password': confirm });
  }

  it('emails exactly one set-password link to the new address on confirmation; the link sets a password that passes policy, once; then password + emailed code sign in', async () => {
    const email = 'nu.first@example.com';
    const since = t.smtp.messages.length;
    const { confirmed, reference } = await createThroughConsole('nu.first', email);
    expect(confirmed.status).toBe(303);

    const mail = await t.smtp.waitFor(email, { since });
    const toNewUser = () => t.smtp.messages.slice(since).filter((m) => m.to.includes(email));
    expect(toNewUser()).toHaveLength(1);
    expect(mail.subject).toBe(SUBJECT);
    expect(mail.text).toContain('Dear New nu.first');
    expect(mail.text).toContain('Your user ID is nu.first');
    expect(mail.text).toContain('effective for 72 hours and works once');
    const link = linkIn(mail);
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.html).toMatch(/>Set your password</);

    const stored = await t.idp.identity.stores.passwordResets.findByHash(sha256Hex(link.split('/').at(-1)!));
    expect(stored).toMatchObject({ purpose: 'set_password', consumedAt: null });
    expect((stored!.expiresAt.getTime() - stored!.createdAt.getTime()) / 1000).toBe(HOURS_72);

    const form = await new UserAgent().request(link);
    expect(form.status).toBe(200);
    expect(form.headers.get('cache-control')).toContain('no-store');
    expect(textOf(form.html)).toContain('Set your password');
    expect(textOf(form.html)).toContain('nu.first');

    const short = await setPasswordThrough(link, 'too short');
    expect(short.status).toBe(400);
    expect(textOf(short.html)).toContain('Use at least 12 characters');
    const ownEmail = await setPasswordThrough(link, email);
    expect(ownEmail.status).toBe(400);
    expect(textOf(ownEmail.html)).toContain('Do not use your user ID, email address or organization name');
    const done = await setPasswordThrough(link, NEW_PASSWORD);
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('Your password is set.');

    const again = await setPasswordThrough(link, 'another long passphrase of many words');
    expect(again.status).toBe(410);
    expect(textOf(again.html)).toContain('This link is no longer valid');

    const ua = new UserAgent();
    const auth = await startAuthorization(rp, REDIRECT);
    expect((await submitPassword(ua, await ua.follow(auth.url.toString()), 'nu.first', 'another long passphrase of many words')).status).toBe(401);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: 'nu.first', password: NEW_PASSWORD, email, smtp: t.smtp });
    const tokens = await redeem(rp, callback, auth);
    const account = await t.idp.identity.accounts.getAccountByLogin('nu.first');
    expect(tokens.claims()?.sub).toBe(account.account.id);
    expect(tokens.claims()?.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));

    const audit = await t.idp.identity.stores.audit.list({ accountId: account.account.id });
    expect(audit.find((e) => e.type === 'password_reset.email_sent')).toMatchObject({ actor: checker.id, organizationId, data: expect.objectContaining({ purpose: 'set_password', reference }) });
    expect(audit.find((e) => e.type === 'password_reset.completed')).toMatchObject({ data: expect.objectContaining({ purpose: 'set_password' }) });
    expect(t.smtp.messages.slice(since).some((m) => m.subject === 'connect-iam: your password was changed')).toBe(false);
  });

  it('honours only the newest set-password link, and none once the account has a password', async () => {
    const email = 'nu.newest@example.com';
    const since = t.smtp.messages.length;
    await createThroughConsole('nu.newest', email);
    const first = linkIn(await t.smtp.waitFor(email, { since, predicate: (m) => m.subject === SUBJECT }));
    const { account } = await t.idp.identity.accounts.getAccountByLogin('nu.newest');
    /** Sends another link through the recovery service and returns it from the captured email. */
    const resend = async () => {
      const before = t.smtp.messages.length;
      expect(await t.idp.identity.recovery.sendSetPasswordLink(account.id, { reference: null, actor: 'test', organizationId })).toBeNull();
      const link = linkIn(await t.smtp.waitFor(email, { since: before, predicate: (m) => m.subject === SUBJECT }));
      // Delivered links supersede older ones as the worker records the delivery, right after SMTP accepted it.
      await t.idp.identity.mailDelivery.idle();
      return link;
    };
    const second = await resend();
    expect(second).not.toBe(first);
    expect((await new UserAgent().request(first)).status).toBe(410);
    expect((await setPasswordThrough(first, NEW_PASSWORD)).status).toBe(410);
    expect((await setPasswordThrough(second, NEW_PASSWORD)).status).toBe(200);

    const afterPassword = await resend();
    expect((await new UserAgent().request(afterPassword)).status).toBe(410);
    expect((await setPasswordThrough(afterPassword, 'someone else took over this link')).status).toBe(410);
  });

  it('confirms the request during a mail outage, keeps the set-password email in the outbox, and delivers it once mail is back', async () => {
    const email = 'nu.outage@example.com';
    const since = t.smtp.messages.length;
    t.smtp.setRefusing(true);
    let accountId: string;
    try {
      const { confirmed } = await createThroughConsole('nu.outage', email);
      expect(confirmed.status).toBe(303);
      const account = await t.idp.identity.accounts.getAccountByLogin('nu.outage');
      accountId = account.account.id;
      expect(account.account.status).toBe('active');
      await expect.poll(async () => (await t.idp.identity.listUndeliveredMail()).find((m) => m.purpose === 'set_password_link' && m.accountId === accountId)?.lastError ?? null).toMatch(/451/);
      expect(await t.idp.identity.stores.audit.list({ accountId, type: 'password_reset.email_sent' })).toEqual([]);
    } finally {
      t.smtp.setRefusing(false);
    }
    const mail = await t.smtp.waitFor(email, { since });
    expect((await setPasswordThrough(linkIn(mail), NEW_PASSWORD)).status).toBe(200);
    await t.idp.identity.mailDelivery.idle();
    expect(await t.idp.identity.stores.audit.list({ accountId, type: 'password_reset.email_sent' })).toHaveLength(1);
  });
});
