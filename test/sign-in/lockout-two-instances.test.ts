import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectIam, type RunningConnectIam } from '../../server/app.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7601/auth/callback';

describe('lockout holds across two instances on one database (design/architecture.md "Scaling out")', () => {
  let t: TestIdp;
  let second: RunningConnectIam;
  let rps: client.Configuration[];

  beforeAll(async () => {
    t = await startTestIdp();
    second = await startConnectIam({ config: { ...t.config, port: 0 }, database: t.idp.database });
    const registered = await t.registerClient({ clientId: 'two-instances', redirectUri: REDIRECT });
    const onSecond = await client.discovery(new URL(second.issuer), registered.clientId, registered.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    rps = [registered.rp, onSecond];
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  async function tryPassword(instance: number, login: string, password: string) {
    const ua = new UserAgent();
    const page = await ua.follow((await startAuthorization(rps[instance]!, REDIRECT)).url.toString());
    return submitPassword(ua, page, login, password);
  }

  it('gives 50 concurrent wrong passwords spread over both instances at most 5 checks plus the locked one, with no 5xx', async () => {
    const user = await t.createAccount({ userId: 'two.instances' });
    const pages = await Promise.all(Array.from({ length: 50 }, (_, i) => tryPassword(i % 2, user.userId, `spread-guess-${i}`)));
    expect(pages.filter((p) => p.status >= 500)).toEqual([]);
    const failures = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.sign_in_failed', limit: 100 });
    const checked = failures.filter((e) => e.data.reason === 'wrong_password').length;
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(checked).toBeLessThanOrEqual(6);
    expect(failures).toHaveLength(50);
    expect((await t.idp.identity.stores.lockouts.find(user.id))?.lockedAt).not.toBeNull();
  });

  it('tells the right password on the other instance that the account is locked', async () => {
    const user = await t.createAccount({ userId: 'two.instances.b' });
    for (let i = 0; i < 5; i++) await tryPassword(0, user.userId, `wrong-on-first-${i}`);
    const right = await tryPassword(1, user.userId, user.password);
    expect(textOf(right.html)).toMatch(/locked/i);
  });
});
