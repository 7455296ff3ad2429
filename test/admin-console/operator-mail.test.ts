import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { textOf } from '../support/user-agent.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

type Who = { id: string; userId: string };

describe('the operator console lists email that could not be delivered', () => {
  let t: TestIdp;
  let c: TestConsole;
  let operator: Who;
  let da: Who;

  beforeAll(async () => {
    t = await startTestIdp({ MAIL_MAX_ATTEMPTS: '2' });
    c = await startTestConsole(t);
    da = await t.createAccount({ userId: 'mail.da', delegatedAdministrator: true });
    operator = await t.createAccount({ userId: 'mail.operator', functions: [] });
    await t.idp.identity.accounts.setOperator(operator.id, true, 'test');
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const get = async (who: Who, path: string) => request(c.app).get(path).set('Cookie', await c.cookieFor(who, 'tok'));

  it('shows purpose, masked recipient, attempts, the server\'s answer and status of a given-up code, never its body; the failure is in the audit log; a delegated administrator gets 404', async () => {
    const user = await t.createAccount({ userId: 'mail.victim' });
    t.smtp.setRefusing(true);
    try {
      const { account } = (await t.idp.identity.accounts.findAccount(user.id))!;
      await t.idp.identity.emailOtp.send(account, 'console-binding');
      await expect.poll(async () => (await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'mail.delivery_failed' })).length, { timeout: 8000 }).toBe(1);
    } finally {
      t.smtp.setRefusing(false);
    }
    const page = await get(operator, '/operator/mail');
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    expect(text).toContain('Undelivered mail');
    expect(text).toMatch(/Sign-in code\s+m\*\*\*@example\.com\s+connect-iam: your sign-in code\s+Given up\s+2\s+.*451/);
    expect(page.text).not.toContain('mail.victim@example.com');
    expect(text).not.toMatch(/sign-in code is \d{6}/);
    expect(page.text).toContain('href="/operator/mail"');
    const audit = await get(operator, '/operator/audit?type=mail.delivery_failed');
    expect(textOf(audit.text)).toContain('mail.delivery_failed');
    expect((await get(da, '/operator/mail')).status).toBe(404);
  });
});
