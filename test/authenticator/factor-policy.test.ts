import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { APP_CODE_LABEL, ManualClock, oathtool, passwordStep, registerApp, submitAppCode } from '../support/authenticator.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf } from '../support/user-agent.js';
import * as cheerio from 'cheerio';

const REDIRECT = 'http://localhost:7412/cb';

/** Posts the "Email me a code instead" form even when the page does not offer it (the page's CSRF token kept). */
function forceEmailInstead(at: Awaited<ReturnType<typeof passwordStep>>) {
  const $ = cheerio.load(at.page.html);
  const form = $('form').first();
  const body = new URLSearchParams();
  form.find('input[type=hidden]').each((_, i) => void body.append($(i).attr('name') ?? '', $(i).attr('value') ?? ''));
  const action = new URL(form.attr('action') ?? at.page.url, at.page.url).toString().replace(/\/app-code.*$/, '/app-code/email-instead');
  return at.ua.request(action, { method: 'POST', body });
}

describe('authenticator policy and administrator reset', () => {
  const clock = new ManualClock();

  describe('with AUTHENTICATOR_EMAIL_FALLBACK=false', () => {
    let t: TestIdp;
    let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
    beforeAll(async () => {
      t = await startTestIdp({ AUTHENTICATOR_EMAIL_FALLBACK: 'false' }, { clock });
      rp = (await t.registerClient({ clientId: 'no-fallback', redirectUri: REDIRECT })).rp;
    });
    afterAll(() => t?.close());

    it('neither offers nor accepts "Email me a code instead", and sends no email', async () => {
      const user = await t.createAccount({ userId: 'policy.app-only' });
      const secret = await registerApp(t, user.id, clock);
      clock.advance(60);
      // Count sign-in codes only: the registration's notice is delivered by the outbox at its own pace.
      const codes = () => t.smtp.messages.filter((m) => m.to.includes(user.email) && /sign-in code/.test(m.subject)).length;
      const mailsBefore = codes();
      const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
      expect(textOf(at.page.html)).toContain(APP_CODE_LABEL);
      expect(at.page.html).not.toMatch(/Email me a code instead/);
      const forced = await forceEmailInstead(at);
      expect(forced.status).toBe(403);
      expect(textOf(forced.html)).toContain('needs a code from your authenticator app');
      expect(codes()).toBe(mailsBefore);
      const done = await submitAppCode(at, oathtool(secret, clock.now()));
      expect(done.redirectedTo).toContain('code=');
    });
  });

  describe('reset by an administrator', () => {
    let t: TestIdp;
    let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];
    beforeAll(async () => {
      t = await startTestIdp({}, { clock });
      rp = (await t.registerClient({ clientId: 'reset-factor', redirectUri: REDIRECT })).rp;
    });
    afterAll(() => t?.close());

    it('removes the app, records the event, emails the person, and the next sign-in asks for an emailed code', async () => {
      const user = await t.createAccount({ userId: 'policy.reset' });
      await registerApp(t, user.id, clock);
      clock.advance(60);
      const since = t.smtp.messages.length;
      const { account } = (await t.idp.identity.accounts.findAccount(user.id))!;
      expect(await t.idp.identity.authenticators.resetByAdministrator(account, 'operator-cli')).toBe(true);
      const notice = await t.smtp.waitFor(user.email, { since });
      expect(notice.text).toMatch(/authenticator app/i);
      expect(await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'authenticator.reset' })).toHaveLength(1);
      expect(await t.idp.identity.authenticators.resetByAdministrator(account, 'operator-cli')).toBe(false);

      const codeSince = t.smtp.messages.length;
      const at = await passwordStep(rp, REDIRECT, user.userId, user.password);
      expect(textOf(at.page.html)).toContain('One-time code');
      const code = otpFrom(await t.smtp.waitFor(user.email, { since: codeSince, predicate: (m) => /sign-in code/.test(m.subject) }));
      const done = await at.ua.submit(at.page, { 'One-time code': code }, { stopAt: (next) => next.startsWith(REDIRECT) });
      expect(done.redirectedTo).toContain('code=');
    });
  });
});
