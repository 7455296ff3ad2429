import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_FORMS } from '../../admin-console/account-detail-routes.js';
import { REQUEST_ACTIONS } from '../../admin-console/request-view.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { routesOf, type Route } from '../support/routes.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

/**
 * Issue 5's safety rules over every route the console has, found from the app itself so a new route cannot
 * slip past: another organization's ids answer 404 (not 403), and no state-changing route works without the
 * session's CSRF token (403, nothing changed).
 */
describe('every admin console route', () => {
  let t: TestIdp;
  let c: TestConsole;
  let routes: Route[];
  const ids: { account?: string; request?: string } = {};
  let da: { id: string; userId: string };
  let operator: { id: string; userId: string };

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    routes = routesOf(c.app);
    da = await t.createAccount({ userId: 'every.da', delegatedAdministrator: true });
    await t.createAccount({ userId: 'every.da2', delegatedAdministrator: true });
    operator = await t.createAccount({ userId: 'every.operator' });
    await t.idp.identity.accounts.setOperator(operator.id, true, 'test');
    // Another organization with its own DAs, an account and a submitted request.
    const other = await t.newOrganization();
    const otherDa = await t.createAccount({ userId: 'every.other.da', delegatedAdministrator: true, organization: other });
    const otherUser = await t.createAccount({ userId: 'every.other.user', organization: other });
    ids.account = otherUser.id;
    const draft = await t.idp.identity.changeRequests.createDraft({ accountId: otherDa.id }, { organizationId: other, type: 'suspend_account', payload: { accountId: otherUser.id } });
    ids.request = (await t.idp.identity.changeRequests.submit({ accountId: otherDa.id }, draft.id)).id;
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  /**
   * Values of the non-id parameters: every change form and every request action the console has; an SFTP key or
   * address id (any: the account is another organization's, so the page is not found before the key is looked up).
   */
  const VALUES: Record<string, readonly string[]> = { change: CHANGE_FORMS.map((f) => f.slug), action: REQUEST_ACTIONS, keyId: [randomUUID()], rangeId: [randomUUID()] };

  /**
   * The route's concrete paths with another organization's ids (`:id`) and each value of its other parameters;
   * an empty list when a parameter has no meaning this test knows.
   */
  const withOtherIds = (path: string): string[] => {
    const id = path.startsWith('/accounts/:') ? ids.account! : path.startsWith('/requests/:') ? ids.request! : null;
    if (!id) return [];
    let paths = [path.replace(':id', id)];
    for (const [name, values] of Object.entries(VALUES)) {
      if (paths[0]!.includes(`:${name}`)) paths = paths.flatMap((p) => values.map((v) => p.replace(`:${name}`, v)));
    }
    return paths.some((p) => p.includes(':')) ? [] : paths;
  };
  const delegated = (r: Route) => !r.path.startsWith('/auth') && !r.path.startsWith('/operator') && r.path !== '/organization';

  it('finds the routes of the console (the walk is not empty)', () => {
    expect(routes.filter((r) => r.method === 'POST').length).toBeGreaterThan(10);
    expect(routes).toContainEqual({ method: 'GET', path: '/accounts/:id' });
    expect(routes.some((r) => r.path.startsWith('/operator/'))).toBe(true);
  });

  it('answers 404 to a delegated administrator for every route with another organization\'s ids, and changes nothing', async () => {
    const cookie = await c.cookieFor(da, 'tok');
    const withParams = routes.filter((r) => delegated(r) && r.path.includes(':'));
    const unmapped = withParams.filter((r) => withOtherIds(r.path).length === 0);
    expect(unmapped, 'a route parameter this test does not know: map it in withOtherIds').toEqual([]);
    const before = await t.idp.identity.changeRequests.getForOperator(ids.request!);
    let tried = 0;
    for (const route of withParams) {
      for (const path of withOtherIds(route.path)) {
        const res = route.method === 'GET'
          ? await request(c.app).get(path).set('Cookie', cookie)
          : await request(c.app).post(path).set('Cookie', cookie).type('form').send({ _csrf: 'tok', version: String(before.version), comment: 'no', message: 'no', functions: 'EU_ECPSFTP' });
        expect(res.status, `${route.method} ${path}`).toBe(404);
        tried++;
      }
    }
    expect(tried).toBeGreaterThanOrEqual(CHANGE_FORMS.length + REQUEST_ACTIONS.length + 3);
    const after = await t.idp.identity.changeRequests.getForOperator(ids.request!);
    expect(after.version).toBe(before.version);
    expect(after.status).toBe(before.status);
    expect((await t.idp.identity.accounts.findAccount(ids.account!))!.account.status).toBe('active');
  });

  it('refuses every state-changing route without the session\'s CSRF token with 403, and changes nothing', async () => {
    const posts = routes.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && !r.path.startsWith('/auth'));
    const eventsBefore = (await t.idp.identity.stores.audit.list({ limit: 10_000 })).length;
    for (const who of [da, operator]) {
      const cookie = await c.cookieFor(who, 'tok');
      for (const route of posts) {
        const path = route.path.replace(':change', 'suspend').replace(':action', 'confirm').replace(/:[A-Za-z]+/g, ids.request!);
        for (const csrf of [undefined, 'not-the-token']) {
          const res = await request(c.app).post(path).set('Cookie', cookie).type('form').send({ ...(csrf ? { _csrf: csrf } : {}), name: 'Sneaky Ltd', participantIds: 'SNEAK9' });
          expect(res.status, `${who.userId} ${route.method} ${path} csrf=${csrf}`).toBe(403);
        }
      }
    }
    expect((await t.idp.identity.stores.audit.list({ limit: 10_000 })).length).toBe(eventsBefore);
    expect((await t.idp.identity.organizations.listOrganizations()).map((o) => o.name)).not.toContain('Sneaky Ltd');
  });
});
