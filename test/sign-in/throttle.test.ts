import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { formWith } from '../idp/fixture.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7611/auth/callback';
const WINDOW_SECONDS = 600;
const PER_IP = 3;
const PER_INTERACTION = 4;

describe('sign-in rate limits per client IP and per interaction (issue 8 point 4)', () => {
  let t: TestIdp;
  let second: RunningConnectIam;
  let rps: client.Configuration[];

  beforeAll(async () => {
    // One proxy hop, so each request can name its client IP in X-Forwarded-For (as the load balancer would).
    t = await startTestIdp({
      TRUST_PROXY_HOPS: '1',
      SIGN_IN_RATE_LIMIT_PER_IP: String(PER_IP),
      SIGN_IN_RATE_LIMIT_PER_INTERACTION: String(PER_INTERACTION),
      SIGN_IN_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
    });
    second = await startConnectIam({ config: { ...t.config, port: 0 }, database: t.idp.database });
    const registered = await t.registerClient({ clientId: 'throttle-client', redirectUri: REDIRECT });
    const onSecond = await client.discovery(new URL(second.issuer), registered.clientId, registered.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    rps = [registered.rp, onSecond];
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  /** A fresh sign-in page (a new interaction) on instance 0 or 1. */
  async function signInPage(instance = 0): Promise<{ ua: UserAgent; page: Page }> {
    const ua = new UserAgent();
    return { ua, page: await ua.follow((await startAuthorization(rps[instance]!, REDIRECT)).url.toString()) };
  }
  /** Submits the form holding the field labelled `label` with `values`, as a client at `ip`; no redirect followed. */
  async function post(ua: UserAgent, page: Page, label: string, values: Record<string, string>, ip: string): Promise<Page> {
    const form = formWith(page.html, label);
    return ua.request(new URL(form.action, page.url).toString(), { method: 'POST', body: new URLSearchParams({ ...form.fields, ...values }), headers: { 'x-forwarded-for': ip } });
  }
  async function tryPassword(login: string, password: string, ip: string, instance = 0): Promise<Page> {
    const { ua, page } = await signInPage(instance);
    return post(ua, page, 'User ID or email', { login, password }, ip);
  }
  async function failures(accountId: string): Promise<number> {
    return (await t.idp.identity.stores.audit.list({ accountId, type: 'account.sign_in_failed', limit: 1000 })).length;
  }
  function expectThrottled(page: Page) {
    expect(page.status).toBe(429);
    const retryAfter = Number(page.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('cache-control')).toContain('no-store');
    const text = textOf(page.html);
    expect(text).toContain('Please wait before trying again');
    expect(text).toMatch(/Please wait (about \d+ minutes?|\d+ seconds?), then try again\./);
    expect(page.html).not.toMatch(/at .+\.(ts|js):\d+/); // no stack trace
  }

  it('answers 429 with Retry-After and a page that says how long to wait once one IP has used its attempts, without checking them', async () => {
    const user = await t.createAccount({ userId: 'throttle.ip' });
    for (let i = 0; i < PER_IP; i++) expect((await tryPassword(user.userId, `wrong-${i}-password`, '203.0.113.10')).status).toBe(401);
    // Five more guesses would lock the account (LOCKOUT_MAX_FAILURES 5) if they were checked.
    for (let i = 0; i < 5; i++) expectThrottled(await tryPassword(user.userId, `throttled-${i}-password`, '203.0.113.10'));
    const throttledRight = await tryPassword(user.userId, user.password, '203.0.113.10');
    expectThrottled(throttledRight);
    expect(textOf(throttledRight.html)).toContain('Too many sign-in attempts have come from your network');

    expect(await failures(user.id)).toBe(PER_IP);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt ?? null).toBeNull();
    const { ua, page } = await signInPage();
    const fromElsewhere = await post(ua, page, 'User ID or email', { login: user.userId, password: user.password }, '198.51.100.20');
    expect(fromElsewhere.status).toBe(303);
    expect(textOf((await ua.follow(new URL(fromElsewhere.headers.get('location')!, fromElsewhere.url).toString())).html)).toContain('One-time code');
  });

  it('gives a step that succeeds its attempt back, so people behind one address are limited by their failures only', async () => {
    const user = await t.createAccount({ userId: 'throttle.office' });
    for (let i = 0; i < PER_IP + 2; i++) expect((await tryPassword(user.userId, user.password, '203.0.113.30')).status).toBe(303);
    for (let i = 0; i < PER_IP; i++) expect((await tryPassword('nobody.in.the.office', `guess-${i}-password`, '203.0.113.30')).status).toBe(401);
    expectThrottled(await tryPassword('nobody.in.the.office', 'one-more-guess', '203.0.113.30'));
  });

  it('counts an IPv6 client by its /64 network', async () => {
    for (const host of ['a', 'b', 'c']) expect((await tryPassword('nobody.v6', 'some-password-1', `2001:db8:7:9::${host}`)).status).toBe(401);
    expectThrottled(await tryPassword('nobody.v6', 'some-password-1', '2001:db8:7:9:ffff::1'));
    expect((await tryPassword('nobody.v6', 'some-password-1', '2001:db8:7:a::1')).status).toBe(401);
  });

  it('limits one interaction to its attempts whatever IP addresses they come from', async () => {
    const { ua, page } = await signInPage();
    let current = page;
    for (let i = 0; i < PER_INTERACTION; i++) {
      current = await post(ua, current, 'User ID or email', { login: 'nobody.spread', password: `spread-${i}-password` }, `192.0.2.${10 + i}`);
      expect(current.status).toBe(401);
    }
    const refused = await post(ua, current, 'User ID or email', { login: 'nobody.spread', password: 'spread-last-password' }, '192.0.2.99');
    expectThrottled(refused);
    expect(textOf(refused.html)).toContain('Too many attempts have been made in this sign-in');
  });

  it('counts the code step too: a code past the interaction\'s limit is refused without being checked', async () => {
    const user = await t.createAccount({ userId: 'throttle.code' });
    const { ua, page } = await signInPage();
    const since = t.smtp.messages.length;
    const afterPassword = await post(ua, page, 'User ID or email', { login: user.userId, password: user.password }, '192.0.2.50');
    expect(afterPassword.status).toBe(303);
    let codePage = await ua.follow(new URL(afterPassword.headers.get('location')!, afterPassword.url).toString());
    const code = otpFrom(await t.smtp.waitFor(user.email, { since }));
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i < PER_INTERACTION; i++) {
      codePage = await post(ua, codePage, 'One-time code', { code: wrong }, `192.0.2.${50 + i}`);
      expect(codePage.status).toBe(401);
    }
    expectThrottled(await post(ua, codePage, 'One-time code', { code }, '192.0.2.60'));
    expect(await failures(user.id)).toBe(PER_INTERACTION - 1);
  });

  it('shares the counters between two instances on one database', async () => {
    expect((await tryPassword('nobody.two', 'some-password-1', '203.0.113.70', 0)).status).toBe(401);
    expect((await tryPassword('nobody.two', 'some-password-1', '203.0.113.70', 1)).status).toBe(401);
    expect((await tryPassword('nobody.two', 'some-password-1', '203.0.113.70', 0)).status).toBe(401);
    expectThrottled(await tryPassword('nobody.two', 'some-password-1', '203.0.113.70', 1));
    expectThrottled(await tryPassword('nobody.two', 'some-password-1', '203.0.113.70', 0));
  });
});
