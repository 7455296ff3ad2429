import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/index.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

describe("times in the deployment's time zone", () => {
  let t: TestIdp;
  let c: TestConsole;

  beforeAll(async () => {
    t = await startTestIdp({ TIME_ZONE: 'Asia/Hong_Kong' });
    c = await startTestConsole(t, { timeZone: t.config.timeZone });
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  it('reads TIME_ZONE and refuses a zone that is not IANA', () => {
    expect(loadConfig({ TIME_ZONE: 'Asia/Hong_Kong' }).timeZone).toBe('Asia/Hong_Kong');
    expect(loadConfig({}).timeZone).toBe('UTC');
    expect(() => loadConfig({ TIME_ZONE: 'Mars/Olympus_Mons' })).toThrow(ConfigError);
  });

  it('shows the dashboard\'s "Last update" in that zone', async () => {
    const maker = await t.createAccount({ userId: 'tz.maker', delegatedAdministrator: true });
    const checker = await t.createAccount({ userId: 'tz.checker', delegatedAdministrator: true });
    const draft = await t.idp.identity.changeRequests.createDraft({ accountId: maker.id }, { organizationId: await t.organization(), type: 'create_account', payload: { userId: 'tz.new', name: 'Tz New', email: 'tz.new@example.com', phone: '+852 5555 0122', functions: [] } });
    await t.idp.identity.changeRequests.submit({ accountId: maker.id }, draft.id);
    const home = await request(c.app).get('/').set('Cookie', await c.cookieFor(checker));
    expect(home.text).toMatch(/\d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT)/);
  });
});
