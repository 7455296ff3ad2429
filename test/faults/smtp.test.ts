/**
 * The mail server fails while people sign in and reset passwords: it is down (connections refused), rejects
 * mail (451), or hangs (a black hole). The TCP proxy of test/faults/support sits between the IdP and a real SMTP
 * capture. Nothing is lost (every code and link goes out once SMTP is back, exactly once, even with two
 * instances on one database), the pages say what is true, an earlier code keeps working, and no request waits on SMTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/index.js';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { openTestDatabase } from '../support/database.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom, startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';
import { REGISTERED_PHONE, RESET_SUBJECT } from '../recovery/support.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import * as client from 'openid-client';

const REDIRECT = 'http://localhost:7996/auth/callback';
const TROUBLE = 'We are having trouble sending email; try again in a minute.';
const CODE_SUBJECT = 'connect-iam: your sign-in code';

type Database = Awaited<ReturnType<typeof openTestDatabase>>;

/** The mail server goes away: pooled connections are reset and new ones refused. */
async function stopSmtp(proxy: FaultProxy): Promise<void> {
  await proxy.reset();
  await proxy.refuse();
}

/** Environment of an IdP whose mail goes through `proxy`: quick retries, 1 s SMTP timeouts. */
const envWith = (proxy: FaultProxy, extra: Record<string, string> = {}) => ({
  NODE_ENV: 'test',
  HOST: '127.0.0.1',
  PORT: '0',
  SMTP_URL: `smtp://127.0.0.1:${proxy.port}`,
  LOG_LEVEL: 'silent',
  DEMO_DATA: 'false',
  DEMO_PORTALS: 'false',
  OTP_RESEND_INTERVAL_SECONDS: '30',
  SIGN_IN_RATE_LIMIT_PER_IP: '10000',
  SMTP_TIMEOUT_SECONDS: '1',
  MAIL_RETRY_INITIAL_SECONDS: '0.2',
  MAIL_RETRY_MAX_SECONDS: '0.5',
  MAIL_POLL_SECONDS: '0.2',
  ...extra,
});

describe('SMTP faults during sign-in and password reset (a TCP proxy between the IdP and SMTP)', () => {
  let smtp: SmtpCapture;
  let proxy: FaultProxy;
  let database: Database;
  let idp: RunningConnectIam;
  let rp: client.Configuration;
  let organizationId: string;
  let count = 0;

  const account = async () => {
    const userId = `smtp.fault.${++count}`;
    const email = `${userId}@example.com`;
    await idp.identity.accounts.createAccount({ organization: organizationId, userId, name: `Fault ${count}`, email, phone: REGISTERED_PHONE, functions: ['EU_UserMaintenance'], password: TEST_PASSWORD }, 'test');
    return { userId, email };
  };
  /** Opens the sign-in and submits the password; returns the code page reached and how long the password step took. */
  const passwordStep = async (userId: string) => {
    const ua = new UserAgent();
    const auth = await startAuthorization(rp, REDIRECT);
    const signIn = await ua.follow(auth.url.toString());
    const started = performance.now();
    const page = await submitPassword(ua, signIn, userId, TEST_PASSWORD);
    return { ua, page, ms: performance.now() - started };
  };
  const reload = (ua: UserAgent, page: Page) => ua.request(page.url);
  const mailsTo = (email: string, subject: string) => smtp.messages.filter((m) => m.to.includes(email) && m.subject === subject);
  const failedOtps = async (userId: string) => {
    const view = await idp.identity.accounts.getAccountByLogin(userId);
    return (await idp.identity.stores.audit.list({ accountId: view.account.id, type: 'account.sign_in_failed' })).length;
  };

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    proxy = await startFaultProxy(smtp.url);
    database = await openTestDatabase();
    idp = await startConnectIam({ config: loadConfig(envWith(proxy)), database });
    organizationId = (await idp.identity.organizations.createOrganization({ name: 'SMTP Faults Ltd', participantIds: ['F00025'] }, 'test')).id;
    const created = await idp.clients.create({ clientId: 'smtp-faults', redirectUris: [REDIRECT], postLogoutRedirectUris: [], firstParty: true });
    rp = await client.discovery(new URL(idp.issuer), created.clientId, created.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
  }, 60_000);
  afterAll(async () => {
    await idp?.close();
    await database?.close();
    await proxy?.close();
    await smtp?.close();
  });

  it('answers the password step at once while SMTP hangs, says the code is being sent, then that email is in trouble, and delivers it once SMTP answers', async () => {
    const user = await account();
    await proxy.blackhole();
    try {
      const { ua, page, ms } = await passwordStep(user.userId);
      expect(ms).toBeLessThan(2000);
      expect(page.status).toBe(200);
      expect(textOf(page.html)).toContain('Sending your code to s***@example.com');
      expect(textOf(page.html)).not.toContain('We emailed');
      expect(page.html).toContain('http-equiv="refresh"');
      // The first attempt times out after SMTP_TIMEOUT_SECONDS; the page then tells the truth.
      await expect.poll(async () => textOf((await reload(ua, page)).html), { timeout: 8000 }).toContain(TROUBLE);
      await proxy.pass();
      const mail = await smtp.waitFor(user.email, { predicate: (m) => m.subject === CODE_SUBJECT, timeoutMs: 8000 });
      await idp.identity.mailDelivery.idle();
      const shown = await reload(ua, page);
      expect(textOf(shown.html)).toContain('We emailed a one-time code to s***@example.com');
      const done = await ua.submit(shown, { 'One-time code': otpFrom(mail) }, { stopAt: (next) => next.startsWith(REDIRECT) });
      expect(done.redirectedTo).toMatch(/^http:\/\/localhost:7996\/auth\/callback\?code=/);
      expect(mailsTo(user.email, CODE_SUBJECT)).toHaveLength(1);
    } finally {
      await proxy.pass();
    }
  }, 30_000);

  it.each(['rejecting (451)', 'down (refused)'] as const)('lets a resend go out while SMTP is %s without a 500 or 429, shows the trouble, and the code delivered earlier still signs in with no failure counted', async (outage) => {
    const user = await account();
    const { ua, page } = await passwordStep(user.userId);
    const first = await smtp.waitFor(user.email, { predicate: (m) => m.subject === CODE_SUBJECT });
    await idp.identity.mailDelivery.idle();
    if (outage === 'down (refused)') await stopSmtp(proxy);
    else smtp.setRefusing(true);
    try {
      // Two resends while SMTP is down: the second is not throttled by the first, which never arrived.
      const interval = idp.config.otp.resendIntervalSeconds;
      expect(interval).toBe(30);
      const uid = new URL(page.url).pathname.split('/')[2]!;
      const accountId = (await idp.identity.accounts.getAccountByLogin(user.userId)).account.id;
      // The first code is 'old' for the throttle once its createdAt is past the interval: the test moves it.
      const { emailOtpChallenges } = await import('../../storage/schema.js');
      const { eq } = await import('drizzle-orm');
      await database.db.update(emailOtpChallenges).set({ createdAt: new Date(Date.now() - 60_000) }).where(eq(emailOtpChallenges.bindingId, uid));
      for (let i = 0; i < 2; i++) {
        const resent = await ua.submit(await reload(ua, page), {}, { button: 'Resend code' });
        expect(resent.status).toBe(200);
        expect(textOf(resent.html)).not.toContain('We emailed');
      }
      await expect.poll(async () => textOf((await reload(ua, page)).html), { timeout: 8000 }).toContain(TROUBLE);
      expect(textOf((await reload(ua, page)).html)).toContain('The code we emailed you earlier for this sign-in still works.');
      // The delivered code is still unconsumed (usable) next to the newest, undelivered one.
      const unconsumed = await idp.identity.stores.emailOtps.listUnconsumed(accountId, uid);
      expect(unconsumed[0]?.deliveredAt).toBeNull();
      expect(unconsumed.some((c) => c.deliveredAt !== null)).toBe(true);
      const failuresBefore = await failedOtps(user.userId);
      const done = await ua.submit(await reload(ua, page), { 'One-time code': otpFrom(first) }, { stopAt: (next) => next.startsWith(REDIRECT) });
      expect(done.redirectedTo).toMatch(/\?code=/);
      expect(await failedOtps(user.userId)).toBe(failuresBefore);
    } finally {
      smtp.setRefusing(false);
      await proxy.pass();
    }
  }, 30_000);

  it('keeps a reset link asked for while SMTP is down, answers the neutral page, and delivers the link once, when SMTP is back', async () => {
    const user = await account();
    await stopSmtp(proxy);
    const since = smtp.messages.length;
    let page: Page;
    try {
      const ua = new UserAgent();
      const form = await ua.request(`${idp.issuer}/password/forgot`);
      page = await ua.submit(form, { 'User ID or email': user.userId, 'Mobile phone number': REGISTERED_PHONE });
      expect(page.status).toBe(200);
      await idp.identity.recovery.idle();
      await expect.poll(async () => JSON.stringify(await idp.identity.listUndeliveredMail()), { timeout: 5000 }).toContain('reset_link');
    } finally {
      await proxy.pass();
    }
    const mail = await smtp.waitFor(user.email, { since, predicate: (m) => m.subject === RESET_SUBJECT, timeoutMs: 8000 });
    expect(mail.text).toContain(`${idp.issuer}/password/reset/`);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(smtp.messages.slice(since).filter((m) => m.subject === RESET_SUBJECT && m.to.includes(user.email))).toHaveLength(1);
  }, 30_000);
});

describe('a reset email that can never be delivered', () => {
  it('is given up after MAIL_MAX_ATTEMPTS, audited as mail.delivery_failed, and gives back its slot of the per-account reset limit', async () => {
    const smtp = await startSmtpCapture();
    const proxy = await startFaultProxy(smtp.url);
    const database = await openTestDatabase();
    const idp = await startConnectIam({ config: loadConfig(envWith(proxy, { MAIL_MAX_ATTEMPTS: '2', PASSWORD_RESET_ACCOUNT_LIMIT: '1' })), database });
    try {
      const organization = await idp.identity.organizations.createOrganization({ name: 'Given Up Ltd', participantIds: ['F00026'] }, 'test');
      const { account } = await idp.identity.accounts.createAccount({ organization: organization.id, userId: 'given.up', name: 'Given Up', email: 'given.up@example.com', phone: REGISTERED_PHONE }, 'test');
      const forgot = async () => {
        const ua = new UserAgent();
        return ua.submit(await ua.request(`${idp.issuer}/password/forgot`), { 'User ID or email': 'given.up', 'Mobile phone number': REGISTERED_PHONE });
      };
      smtp.setRefusing(true);
      expect((await forgot()).status).toBe(200);
      await expect.poll(async () => (await idp.identity.stores.audit.list({ accountId: account.id, type: 'mail.delivery_failed' })).length, { timeout: 8000 }).toBe(1);
      const [failed] = await idp.identity.stores.audit.list({ accountId: account.id, type: 'mail.delivery_failed' });
      expect(failed?.data).toMatchObject({ purpose: 'reset_link', attempts: 2, error: expect.stringContaining('451') });
      expect((await idp.identity.listUndeliveredMail()).find((m) => m.purpose === 'reset_link')).toMatchObject({ status: 'failed', attempts: 2, to: 'g***@example.com' });
      smtp.setRefusing(false);
      // The limit is 1 per hour, and the first request's email never arrived: this one is accepted and delivered.
      expect((await forgot()).status).toBe(200);
      await smtp.waitFor('given.up@example.com', { predicate: (m) => m.subject === RESET_SUBJECT });
      const outcomes = (await idp.identity.stores.audit.list({ accountId: account.id, type: 'password_reset.requested' })).map((e) => e.data.outcome);
      expect(outcomes).toEqual(['accepted', 'accepted']);
    } finally {
      await idp.close();
      await database.close();
      await proxy.close();
      await smtp.close();
    }
  }, 30_000);
});

describe('two IdP instances on one database while SMTP is down', () => {
  it('deliver every queued code exactly once when SMTP is back', async () => {
    const smtp = await startSmtpCapture();
    const proxy = await startFaultProxy(smtp.url);
    const database = await openTestDatabase();
    const a = await startConnectIam({ config: loadConfig(envWith(proxy)), database });
    const b = await startConnectIam({ config: loadConfig(envWith(proxy)), database });
    try {
      const organization = await a.identity.organizations.createOrganization({ name: 'Two Workers Ltd', participantIds: ['F00027'] }, 'test');
      await stopSmtp(proxy);
      const emails: string[] = [];
      for (let i = 0; i < 12; i++) {
        const { account } = await a.identity.accounts.createAccount({ organization: organization.id, userId: `two.workers.${i}`, name: `Worker ${i}`, email: `two.workers.${i}@example.com`, phone: REGISTERED_PHONE }, 'test');
        emails.push(account.email);
        await (i % 2 ? a : b).identity.emailOtp.send(account, `binding-${i}`);
      }
      await proxy.pass();
      for (const email of emails) await smtp.waitFor(email, { predicate: (m) => m.subject === CODE_SUBJECT, timeoutMs: 8000 });
      // Both workers keep polling: give them a few more rounds to send anything twice.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await Promise.all([a.identity.mailDelivery.idle(), b.identity.mailDelivery.idle()]);
      expect(emails.map((email) => smtp.messages.filter((m) => m.to.includes(email)).length)).toEqual(emails.map(() => 1));
    } finally {
      await a.close();
      await b.close();
      await database.close();
      await proxy.close();
      await smtp.close();
    }
  }, 30_000);
});
