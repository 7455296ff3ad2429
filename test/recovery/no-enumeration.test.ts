import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { UserAgent, type Page } from '../support/user-agent.js';
import { linkFrom, REGISTERED_PHONE, RESET_SUBJECT, requestLink, requestReset, setPassword } from './support.js';

/** What a requester can observe of an answer. */
function observable(page: Page) {
  return { status: page.status, html: page.html, cacheControl: page.headers.get('cache-control'), type: page.headers.get('content-type') };
}

async function outcomes(t: TestIdp, accountId: string): Promise<unknown[]> {
  await t.idp.identity.recovery.idle();
  return (await t.idp.identity.stores.audit.list({ accountId, type: 'password_reset.requested' })).map((e) => e.data.outcome);
}

describe('the "Forgot password?" answer never reveals whether the details matched', () => {
  let t: TestIdp;
  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_IP_LIMIT: '1000', PASSWORD_RESET_ACCOUNT_LIMIT: '1000' });
  });
  afterAll(() => t?.close());

  it('answers unknown account, phone mismatch and match with the same status, page and headers; only the match is emailed', async () => {
    const user = await t.createAccount({ userId: 'enum.match' });
    const since = t.smtp.messages.length;
    const unknown = await requestReset(t, 'nobody.at.all', REGISTERED_PHONE);
    const mismatch = await requestReset(t, user.userId, '+852 5555 0001');
    const match = await requestReset(t, user.email.toUpperCase(), '(852) 5555-0000');
    expect(observable(unknown).status).toBe(200);
    expect(observable(mismatch)).toEqual(observable(unknown));
    expect(observable(match)).toEqual(observable(unknown));
    await t.idp.identity.recovery.idle();
    expect(t.smtp.messages.slice(since).map((m) => [m.to, m.subject])).toEqual([[[user.email], RESET_SUBJECT]]);
    expect(await outcomes(t, user.id)).toEqual(expect.arrayContaining(['phone_mismatch', 'accepted']));
  });

  it('sends nothing for a phone mismatch and nothing for a suspended account', async () => {
    const user = await t.createAccount({ userId: 'enum.mismatch' });
    const suspended = await t.createAccount({ userId: 'enum.suspended' });
    await t.idp.identity.stores.accounts.setStatus(suspended.id, 'suspended', new Date());
    const since = t.smtp.messages.length;
    expect((await requestReset(t, user.userId, '+852 9999 0000')).status).toBe(200);
    expect((await requestReset(t, suspended.userId, REGISTERED_PHONE)).status).toBe(200);
    await t.idp.identity.recovery.idle();
    expect(t.smtp.messages.slice(since)).toEqual([]);
    expect(await outcomes(t, user.id)).toEqual(['phone_mismatch']);
    expect(await outcomes(t, suspended.id)).toEqual(['account_suspended']);
  });

  it('spends about the same time on unknown, mismatched and matching requests (the email is sent after the answer)', async () => {
    const user = await t.createAccount({ userId: 'enum.timing' });
    const samples: Record<'unknown' | 'mismatch' | 'match', number[]> = { unknown: [], mismatch: [], match: [] };
    const time = async (kind: keyof typeof samples, login: string, phone: string) => {
      const ua = new UserAgent();
      const form = await ua.request(`${t.issuer}/password/forgot`);
      const started = performance.now();
      await ua.submit(form, { 'User ID or email': login, 'Mobile phone number': phone });
      samples[kind].push(performance.now() - started);
      await t.idp.identity.recovery.idle();
    };
    for (let i = 0; i < 10; i++) {
      await time('unknown', `ghost.${i}`, REGISTERED_PHONE);
      await time('mismatch', user.userId, `+852 5555 10${i}0`);
      await time('match', user.userId, REGISTERED_PHONE);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const reference = median(samples.unknown);
    for (const kind of ['mismatch', 'match'] as const) {
      // These answers take tens of milliseconds, and a busy machine (two test projects at once) adds noise of that
      // size, so a difference under 15 ms passes whatever the ratio; a leak beyond that must stay within 0.5–2×.
      const difference = Math.abs(median(samples[kind]) - reference);
      if (difference < 15) continue;
      expect(median(samples[kind]) / reference, kind).toBeGreaterThan(0.5);
      expect(median(samples[kind]) / reference, kind).toBeLessThan(2);
    }
  });
});

describe('rate limits on reset requests are invisible to the requester', () => {
  let t: TestIdp;
  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_ACCOUNT_LIMIT: '2', PASSWORD_RESET_IP_LIMIT: '5' });
  });
  afterAll(() => t?.close());

  it('answers the same page after the per-account and per-IP limits, and stops sending emails', async () => {
    const user = await t.createAccount({ userId: 'limit.account' });
    const since = t.smtp.messages.length;
    const pages = [];
    for (let i = 0; i < 4; i++) pages.push(await requestReset(t, user.userId, REGISTERED_PHONE));
    expect(new Set(pages.map((p) => `${p.status} ${p.html}`)).size).toBe(1);
    await t.idp.identity.recovery.idle();
    expect(t.smtp.messages.slice(since)).toHaveLength(2);
    expect(await outcomes(t, user.id)).toEqual(expect.arrayContaining(['accepted', 'accepted', 'rate_limited', 'rate_limited']));

    const other = await t.createAccount({ userId: 'limit.ip' });
    const afterIpLimit = [await requestReset(t, 'ghost.one', REGISTERED_PHONE), await requestReset(t, other.userId, REGISTERED_PHONE), await requestReset(t, other.userId, REGISTERED_PHONE)];
    expect(afterIpLimit.map((p) => `${p.status} ${p.html}`)).toEqual(Array(3).fill(`${pages[0]!.status} ${pages[0]!.html}`));
    await t.idp.identity.recovery.idle();
    expect(t.smtp.messages.slice(since).filter((m) => m.to.includes(other.email))).toHaveLength(0);
    expect(await outcomes(t, other.id)).toEqual(['rate_limited', 'rate_limited']);
  });
});

describe('a mail outage during a reset request', () => {
  let t: TestIdp;
  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_IP_LIMIT: '1000' });
  });
  afterAll(() => t?.close());

  it('gives the same answer, keeps the link in the outbox while mail is refused, and delivers it once mail is back', async () => {
    const user = await t.createAccount({ userId: 'outage.user' });
    const { link: delivered } = await requestLink(t, user.userId, user.email);
    const normal = await requestReset(t, 'ghost.outage', REGISTERED_PHONE);
    t.smtp.setRefusing(true);
    const since = t.smtp.messages.length;
    const during = await requestReset(t, user.userId, REGISTERED_PHONE);
    expect(observable(during)).toEqual(observable(normal));
    await t.idp.identity.recovery.idle();
    // Refused attempts are retried, not dropped: the message waits in the outbox with the server's answer.
    await expect.poll(async () => (await t.idp.identity.listUndeliveredMail()).find((m) => m.purpose === 'reset_link' && m.accountId === user.id)?.lastError ?? null).toMatch(/451/);
    // The undelivered link superseded nothing: the one the person has still opens its form.
    expect((await new UserAgent().request(delivered)).status).toBe(200);

    t.smtp.setRefusing(false);
    // No new request: the queued email goes out by itself, once.
    const mail = await t.smtp.waitFor(user.email, { since, predicate: (m) => m.subject === RESET_SUBJECT });
    await t.idp.identity.recovery.idle();
    // A delivered link supersedes the older one.
    expect((await new UserAgent().request(delivered)).status).toBe(410);
    expect((await setPassword(linkFrom(t, mail), 'after the outage it works')).status).toBe(200);
    expect(t.smtp.messages.slice(since).filter((m) => m.subject === RESET_SUBJECT)).toHaveLength(1);
  });
});
