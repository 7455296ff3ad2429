/**
 * Issue 5: "Suspension ends an active portal session" (design/security.md §9), with real parts only: the real
 * IdP on PGlite, the demo portals registered with `<origin>/auth/backchannel-logout`, a person signing in through
 * the sign-in pages with an emailed code, and the maker-checker service (DA1 requests, DA2 confirms). Also:
 * RP-initiated logout at one portal ends the session at the other (OIDC Back-Channel Logout 1.0 with `sid`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { openSignedIn, redirectOf } from '../support/portal-session.js';
import { startTestPortals, type TestPortals } from '../support/portals.js';
import { UserAgent, textOf } from '../support/user-agent.js';
import { requestLink, setPassword } from '../recovery/support.js';

let t: TestIdp;
let portals: TestPortals;

beforeAll(async () => {
  // The portals listen on localhost ports chosen at start: allow loopback logout URIs for that name.
  t = await startTestIdp({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: 'localhost' });
  portals = await startTestPortals(t);
});
afterAll(async () => {
  await portals?.close();
  await t?.close();
});

const PROTECTED = '/eservices/user-maintenance';


describe('back-channel logout to the demo portals', () => {
  it('suspension through maker-checker ends an active portal session', async () => {
    const organizationId = await t.organization();
    const da1 = await t.createAccount({ userId: 'bcl.da1', delegatedAdministrator: true });
    const da2 = await t.createAccount({ userId: 'bcl.da2', delegatedAdministrator: true });
    const user = await t.createAccount({ userId: 'bcl.user', functions: ['EU_UserMaintenance'] });
    const ua = new UserAgent();
    const page = await openSignedIn(t, ua, `${portals.eserviceUrl}${PROTECTED}`, user);
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${portals.eserviceUrl}${PROTECTED}`);
    expect(textOf(page.html)).toContain('User maintenance');
    expect(await redirectOf(ua, `${portals.eserviceUrl}${PROTECTED}`)).toBeNull();

    const service = t.idp.identity.changeRequests;
    const draft = await service.createDraft({ accountId: da1.id }, { organizationId, type: 'suspend_account', payload: { accountId: user.id } });
    await service.submit({ accountId: da1.id }, draft.id);
    const claimed = await service.claim({ accountId: da2.id }, draft.id);
    expect((await service.confirm({ accountId: da2.id }, draft.id, claimed.version)).status).toBe('completed');

    expect(await redirectOf(ua, `${portals.eserviceUrl}${PROTECTED}`)).toBe(`/auth/login?returnTo=${encodeURIComponent(PROTECTED)}`);
    const again = await ua.follow(`${portals.eserviceUrl}${PROTECTED}`);
    expect(again.url.startsWith(t.issuer)).toBe(true);
    expect(again.html).toContain('User ID or email');
    const [event] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.suspended' });
    expect(event?.data).toMatchObject({ clients: ['eservice-portal'] });
  });

  it('a password reset ends the portal session too', async () => {
    const user = await t.createAccount({ userId: 'bcl.reset', functions: ['EU_UserMaintenance'] });
    const ua = new UserAgent();
    expect((await openSignedIn(t, ua, `${portals.eserviceUrl}${PROTECTED}`, user)).status).toBe(200);
    const { link } = await requestLink(t, user.userId, user.email);
    expect((await setPassword(link, 'a brand new passphrase for bcl')).status).toBe(200);
    expect(await redirectOf(ua, `${portals.eserviceUrl}${PROTECTED}`)).toBe(`/auth/login?returnTo=${encodeURIComponent(PROTECTED)}`);
    const [completed] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'password_reset.completed' });
    expect(completed?.data).toMatchObject({ clients: ['eservice-portal'] });
  });

  it('RP-initiated logout at ECP ends the session at the eService portal', async () => {
    const user = await t.createAccount({ userId: 'bcl.both', functions: ['EU_UserMaintenance', 'EU_ECPClearingSubmission'] });
    const ua = new UserAgent();
    expect((await openSignedIn(t, ua, `${portals.eserviceUrl}${PROTECTED}`, user)).status).toBe(200);
    const ecpHome = await openSignedIn(t, ua, `${portals.ecpUrl}/`, user);
    expect(ecpHome.url.startsWith(portals.ecpUrl)).toBe(true);
    expect(textOf(ecpHome.html)).toContain('Sign out');
    expect(await redirectOf(ua, `${portals.eserviceUrl}${PROTECTED}`)).toBeNull();

    const confirm = await ua.submit(ecpHome, {}, { button: 'Sign out' });
    expect(confirm.url.startsWith(t.issuer)).toBe(true);
    const done = await ua.submit(confirm, {}, { button: 'Sign out', stopAt: (next) => next.startsWith(portals.ecpUrl) });
    expect(done.redirectedTo).toBe(`${portals.ecpUrl}/`);

    expect(await redirectOf(ua, `${portals.eserviceUrl}${PROTECTED}`)).toBe(`/auth/login?returnTo=${encodeURIComponent(PROTECTED)}`);
    expect(await redirectOf(ua, `${portals.ecpUrl}/`)).toBe('/auth/login?returnTo=%2F');
  });
});
