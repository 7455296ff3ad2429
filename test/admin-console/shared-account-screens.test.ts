/**
 * Issue 8 §10 on the console's screens (docs/policies.md): the DA's forms stay, but for an account that is also a
 * member of another organization the account page, the request page, the dashboard and the operator's screen say
 * that the operator completes an account-wide change, and the checker's Confirm sends it there.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberships } from '../../storage/schema.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { textOf } from '../support/user-agent.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

const WHY = 'This account is also a member of another organization, so the operator completes this change.';

describe('an account-wide change to a shared account, on the console', () => {
  let t: TestIdp;
  let c: TestConsole;
  let maker: { id: string; userId: string };
  let checker: { id: string; userId: string };

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    maker = await t.createAccount({ userId: 'sa.maker', delegatedAdministrator: true });
    checker = await t.createAccount({ userId: 'sa.checker', delegatedAdministrator: true });
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const get = async (who: { id: string; userId: string }, path: string) => request(c.app).get(path).set('Cookie', await c.cookieFor(who, 'tok'));
  const post = async (who: { id: string; userId: string }, path: string, form: Record<string, string> = {}) =>
    request(c.app).post(path).set('Cookie', await c.cookieFor(who, 'tok')).type('form').send({ _csrf: 'tok', ...form });

  it('is explained on the account page, the request page, the dashboard and the operator screen; Confirm sends it to the operator', async () => {
    const shared = await t.createAccount({ userId: 'sa.shared' });
    await t.idp.database.db.insert(memberships).values({ accountId: shared.id, organizationId: await t.newOrganization(), functions: [], delegatedAdministrator: false, createdAt: new Date() });
    const single = await t.createAccount({ userId: 'sa.single' });

    const accountPage = textOf((await get(maker, `/accounts/${shared.id}`)).text);
    expect(accountPage).toContain(`Request suspension`);
    expect(accountPage).toContain(WHY);
    expect(textOf((await get(maker, `/accounts/${single.id}`)).text)).not.toContain(WHY);

    const requested = await post(maker, `/accounts/${shared.id}/suspend`);
    expect(requested.status).toBe(303);
    const id = new URL(requested.headers.location!, c.url).pathname.split('/')[2]!;
    expect((await post(checker, `/requests/${id}/claim`)).status).toBe(303);
    expect(textOf((await get(checker, `/requests/${id}`)).text)).toContain(WHY);

    const { version } = await t.idp.identity.changeRequests.getRequest({ accountId: checker.id }, id);
    const confirmed = await post(checker, `/requests/${id}/confirm`, { version: String(version) });
    expect(confirmed.status).toBe(303);
    const page = textOf((await get(checker, confirmed.headers.location!)).text);
    expect(page).toContain('Sent to operator');
    expect(page).toContain('Confirmed: the request is sent to the operator, who completes the change.');
    expect(page).toContain(WHY);
    expect((await t.idp.identity.stores.accounts.findById(shared.id))?.status).toBe('active');

    const dashboard = textOf((await get(maker, '/')).text);
    expect(dashboard).toContain('Sent to operator');
    expect(dashboard).toContain(WHY);

    const operator = await t.createAccount({ userId: 'sa.operator' });
    await t.idp.identity.stores.accounts.setOperator(operator.id, true, new Date());
    expect(textOf((await get(operator, `/operator/requests/${id}`)).text)).toContain(WHY);
    expect(textOf((await get(operator, '/operator/requests')).text)).toContain(WHY);
  });
});
