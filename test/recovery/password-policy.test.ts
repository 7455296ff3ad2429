import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNewPassword, guessabilityScore, isCommonPassword, passwordLength } from '../../identity/index.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { textOf } from '../support/user-agent.js';
import { requestLink, setPassword } from './support.js';

const context = { userId: 'jchan01', email: 'Jane.Chan@example.com', organizationNames: ['Alpha Securities Limited'] };
const PASSPHRASE = 'Über den Wolken, 雲の上で — correct horse battery staple, naïve café';

describe('the password policy for new passwords (NIST SP 800-63B §3.1.1.2)', () => {
  it('rejects 11 characters and 129 characters, and accepts 12 and 128', () => {
    expect(checkNewPassword('abcdefgh-jk', context)?.password?.[0]).toMatch(/at least 12/);
    expect(checkNewPassword('x'.repeat(64) + 'y'.repeat(65), context)?.password?.[0]).toMatch(/at most 128/);
    expect(checkNewPassword('plum ink rv7', context)).toBeNull();
    expect(checkNewPassword('abcd efgh '.repeat(12) + 'ijkl mno', context)).toBeNull();
  });

  it('accepts a 64-character passphrase with spaces and non-ASCII characters, counting code points', () => {
    expect(passwordLength(PASSPHRASE)).toBe(64);
    expect(checkNewPassword(PASSPHRASE, context)).toBeNull();
    expect(passwordLength('😀'.repeat(12))).toBe(12);
  });

  it('rejects a common password from the maintained list, whatever its case', () => {
    expect(isCommonPassword('qwerty123456')).toBe(true);
    expect(checkNewPassword('QWERTY123456', context)?.password?.[0]).toMatch(/commonly used/);
  });

  it('rejects the user ID, the email, its local part and an organization name, case-insensitively', () => {
    const own = { ...context, userId: 'jane.chan.trader', organizationNames: ['Alpha Securities Limited'] };
    for (const candidate of ['JANE.CHAN.TRADER', 'jane.chan@example.com', 'alpha securities limited']) {
      expect(checkNewPassword(candidate, { ...own, email: 'jane.chan@example.com' })?.password?.[0], candidate).toMatch(/user ID, email address or organization/);
    }
    expect(checkNewPassword('jane.chan.local', { ...own, email: 'Jane.Chan.Local@example.com' })?.password?.[0]).toMatch(/user ID, email/);
  });

  it('rejects variations of common passwords and keyboard patterns that the exact list misses', () => {
    for (const candidate of ['Password@123', 'welcome12345', 'iloveyou1234', 'zxcvbnm,./123', 'P4ssw0rd2026!', 'asdfghjkl;12']) {
      expect(isCommonPassword(candidate), candidate).toBe(false);
      expect(checkNewPassword(candidate, context)?.password?.[0], candidate).toMatch(/too easy to guess/);
    }
    expect(guessabilityScore('correct horse battery staple')).toBeGreaterThanOrEqual(3);
  });

  it('counts the person\'s own details as guessable inside a longer password', () => {
    const own = { ...context, userId: 'jane.chan.trader' };
    expect(checkNewPassword('jane.chan.trader2026', own)?.password?.[0]).toMatch(/too easy to guess/);
    expect(checkNewPassword('jane.chan.trader2026', { ...own, userId: 'someone.else' })).toBeNull();
  });

  it('rejects one character repeated', () => {
    expect(checkNewPassword('a'.repeat(20), context)?.password?.[0]).toMatch(/repeat/);
  });
});

describe('the new-password form applies the policy with field errors and keeps the link usable', () => {
  let t: TestIdp;
  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_RESET_IP_LIMIT: '1000' });
  });
  afterAll(() => t?.close());

  it('shows field errors for 11 and 129 characters, a common password and a mismatch, then accepts a passphrase', async () => {
    const user = await t.createAccount({ userId: 'policy.form' });
    const { link } = await requestLink(t, user.userId, user.email);
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['eleven char', undefined, /at least 12 characters/],
      ['p'.repeat(129), undefined, /at most 128 characters/],
      ['qwerty123456', undefined, /commonly used/],
      ['policy.form', undefined, /at least 12|user ID/],
      ['a perfectly fine passphrase', 'a different one entirely', /not the same/],
    ];
    for (const [password, confirm, message] of cases) {
      const page = await setPassword(link, password, { confirm });
      expect(page.status, password).toBe(400);
      expect(textOf(page.html)).toMatch(message);
    }
    const done = await setPassword(link, PASSPHRASE);
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('Your password was changed.');
    expect((await t.idp.identity.passwordSignIn.verifyPassword(user.userId, PASSPHRASE)).outcome).toBe('ok');
  });
});
