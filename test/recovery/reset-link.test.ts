import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../identity/index.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { textOf, UserAgent } from '../support/user-agent.js';
import { requestLink, setPassword } from './support.js';

const NO_LONGER_VALID = 'This link is no longer valid — request a new one.';

describe('a reset link works once, and only the newest one works', () => {
  let t: TestIdp;
  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_IP_LIMIT: '1000' });
  });
  afterAll(() => t?.close());

  it('is not consumed by GET requests (mail scanners prefetch links)', async () => {
    const user = await t.createAccount({ userId: 'link.prefetch' });
    const { link } = await requestLink(t, user.userId, user.email);
    for (let i = 0; i < 3; i++) expect((await new UserAgent().request(link)).status).toBe(200);
    expect((await fetch(link, { method: 'HEAD' })).status).toBe(200);
    const done = await setPassword(link, 'prefetched but still fine');
    expect(done.status).toBe(200);
  });

  it('shows "no longer valid" with a button back to the form when the link is used again', async () => {
    const user = await t.createAccount({ userId: 'link.reuse' });
    const { link } = await requestLink(t, user.userId, user.email);
    expect((await setPassword(link, 'the first new password')).status).toBe(200);
    const again = await new UserAgent().request(link);
    expect(again.status).toBe(410);
    expect(textOf(again.html)).toContain(NO_LONGER_VALID);
    expect(again.html).toMatch(/<form method="get" action="\/password\/forgot">\s*<button type="submit">Request a new link<\/button>/);
    expect((await t.idp.identity.passwordSignIn.verifyPassword(user.userId, 'the first new password')).outcome).toBe('ok');
  });

  it('stops the older link working when a newer one is requested, and the newer one works', async () => {
    const user = await t.createAccount({ userId: 'link.super' });
    const first = await requestLink(t, user.userId, user.email);
    const second = await requestLink(t, user.userId, user.email);
    expect(second.link).not.toBe(first.link);
    const old = await new UserAgent().request(first.link);
    expect(old.status).toBe(410);
    expect(textOf(old.html)).toContain(NO_LONGER_VALID);
    expect((await setPassword(second.link, 'the newest link wins')).status).toBe(200);
  });

  it('shows "no longer valid" for a link cut short or made up', async () => {
    const user = await t.createAccount({ userId: 'link.cut' });
    const { link } = await requestLink(t, user.userId, user.email);
    for (const broken of [link.slice(0, -5), `${t.issuer}/password/reset/not-a-token`]) {
      const page = await new UserAgent().request(broken);
      expect(page.status).toBe(410);
      expect(textOf(page.html)).toContain(NO_LONGER_VALID);
    }
  });

  it('lets exactly one of 10 concurrent new-password submissions of the same link succeed', async () => {
    const user = await t.createAccount({ userId: 'link.race' });
    const { link } = await requestLink(t, user.userId, user.email);
    const agents = await Promise.all(Array.from({ length: 10 }, async () => {
      const ua = new UserAgent();
      return { ua, form: await ua.request(link) };
    }));
    expect(agents.every((a) => a.form.status === 200)).toBe(true);
    const passwords = agents.map((_, i) => `concurrent new password number ${i}`);
    const pages = await Promise.all(agents.map((a, i) => a.ua.submit(a.form, { 'New password': passwords[i]!, 'Confirm new password': passwords[i]! })));
    const winners = pages.flatMap((p, i) => (p.status === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(pages.filter((p) => p.status === 410)).toHaveLength(9);
    // Check the stored hash directly: ten concurrent sign-ins would run into the lockout budget (5 per window).
    const { passwordHash } = (await t.idp.identity.stores.accounts.findByLogin(user.userId))!;
    const matches = await Promise.all(passwords.map((p) => verifyPassword(passwordHash!, p)));
    expect(matches).toEqual(passwords.map((_, i) => i === winners[0]));
    expect(await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'password_reset.completed' })).toHaveLength(1);
  });
});

describe('a reset link expires', () => {
  let t: TestIdp;
  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_TTL_SECONDS: '1' });
  });
  afterAll(() => t?.close());

  it('says how long it is valid, and shows "no longer valid" once that time has passed', async () => {
    const user = await t.createAccount({ userId: 'link.expiry' });
    const { link, mail } = await requestLink(t, user.userId, user.email);
    expect(mail.text).toContain('effective for 1 second');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const page = await new UserAgent().request(link);
    expect(page.status).toBe(410);
    expect(textOf(page.html)).toContain(NO_LONGER_VALID);
    expect((await t.idp.identity.passwordSignIn.verifyPassword(user.userId, user.password)).outcome).toBe('ok');
  });
});
