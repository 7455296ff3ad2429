/**
 * Issue 8 §8 (docs/policies.md): a portal copies the person's functions into its session at sign-in, so a change
 * of functions must end that copy. With real parts only — the IdP on PGlite (or PostgreSQL), the demo portals
 * registered with their back-channel logout URI, a person signing in through the sign-in pages with an emailed
 * code, and the maker-checker service (DA1 requests, DA2 confirms) — the portal session ends, and the next request
 * signs the person in again through the IdP session they still hold (no password asked) and shows the new
 * functions. The grants that released the old ones are revoked: their refresh and access tokens stop working.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { openSignedIn, redirectOf } from '../support/portal-session.js';
import { startTestPortals, type TestPortals } from '../support/portals.js';
import { redeem, startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { UserAgent, textOf } from '../support/user-agent.js';

let t: TestIdp;
let portals: TestPortals;

beforeAll(async () => {
  t = await startTestIdp({ BACKCHANNEL_LOGOUT_ALLOWED_HOSTS: 'localhost' });
  portals = await startTestPortals(t);
});
afterAll(async () => {
  await portals?.close();
  await t?.close();
});

const PROTECTED = '/eservices/user-maintenance';
const REDIRECT = 'http://localhost:7503/auth/callback';
const toClient = (next: string) => next.startsWith(REDIRECT);


/** DA1 requests `functions` for the account, DA2 claims and confirms it. */
async function changeFunctions(organizationId: string, makerId: string, checkerId: string, accountId: string, functions: string[]): Promise<void> {
  const service = t.idp.identity.changeRequests;
  const draft = await service.createDraft({ accountId: makerId }, { organizationId, type: 'change_functions', payload: { accountId, functions } });
  await service.submit({ accountId: makerId }, draft.id);
  const claimed = await service.claim({ accountId: checkerId }, draft.id);
  expect((await service.confirm({ accountId: checkerId }, draft.id, claimed.version)).status).toBe('completed');
}

describe('a change of functions through maker-checker', () => {
  it('ends the portal session; the next request signs the person in again without a password and shows the new functions', async () => {
    const organizationId = await t.organization();
    const da1 = await t.createAccount({ userId: 'fcl.da1', delegatedAdministrator: true });
    const da2 = await t.createAccount({ userId: 'fcl.da2', delegatedAdministrator: true });
    const user = await t.createAccount({ userId: 'fcl.user', functions: ['EU_UserMaintenance'] });
    const ua = new UserAgent();
    const page = await openSignedIn(t, ua, `${portals.eserviceUrl}${PROTECTED}`, user);
    expect(page.url).toBe(`${portals.eserviceUrl}${PROTECTED}`);
    expect(textOf(page.html)).toContain('User maintenance');
    expect(textOf((await ua.follow(`${portals.eserviceUrl}/`)).html)).toContain('Delegated Administrator Application');

    await changeFunctions(organizationId, da1.id, da2.id, user.id, ['EU_ParticipantshipManagement']);

    expect(await redirectOf(ua, `${portals.eserviceUrl}${PROTECTED}`)).toBe(`/auth/login?returnTo=${encodeURIComponent(PROTECTED)}`);
    // Count only the person's one-time codes: the change request's own notices are delivered by the outbox after it.
    const codesToUser = () => t.smtp.messages.filter((m) => m.to.includes(user.email) && /code/i.test(m.subject)).length;
    const mailsBefore = codesToUser();
    const again = await ua.follow(`${portals.eserviceUrl}${PROTECTED}`);
    expect(again.url).toBe(`${portals.eserviceUrl}${PROTECTED}`);
    expect(again.html).not.toContain('User ID or email');
    expect(again.status).toBe(403);
    expect(textOf(again.html)).toContain('EU_UserMaintenance');
    const home = textOf((await ua.follow(`${portals.eserviceUrl}/`)).html);
    expect(home).toContain('Change of Company Name');
    expect(home).not.toContain('Delegated Administrator Application');
    expect(codesToUser()).toBe(mailsBefore); // no new one-time code: the IdP session stayed

    const [event] = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.functions_changed' });
    expect(event?.data).toMatchObject({ before: ['EU_UserMaintenance'], after: ['EU_ParticipantshipManagement'], grants: 1, clients: ['eservice-portal'] });
  });

  it('revokes the refresh and access tokens that carried the old functions; a new sign-on needs no password and carries the new ones', async () => {
    const organizationId = await t.organization();
    const da1 = await t.createAccount({ userId: 'fcr.da1', delegatedAdministrator: true });
    const da2 = await t.createAccount({ userId: 'fcr.da2', delegatedAdministrator: true });
    const user = await t.createAccount({ userId: 'fcr.user', functions: ['EU_UserMaintenance'] });
    const c = await t.registerClient({ clientId: 'functions-client', redirectUri: REDIRECT });
    const ua = new UserAgent();
    const auth = await startAuthorization(c.rp, REDIRECT, { scope: 'openid organization offline_access', prompt: 'consent' });
    const since = t.smtp.messages.length;
    const codePage = await submitPassword(ua, await ua.follow(auth.url.toString()), user.userId, user.password);
    const consent = await ua.submit(codePage, { 'One-time code': otpFrom(await t.smtp.waitFor(user.email, { since })) }, { stopAt: toClient });
    const callback = consent.redirectedTo ?? (await ua.submit(consent, {}, { button: 'Allow', stopAt: toClient })).redirectedTo; // offline_access asks for consent (OIDC Core §11)
    const tokens = await redeem(c.rp, new URL(callback!), auth);
    expect(tokens.refresh_token).toBeTruthy();
    expect(await client.fetchUserInfo(c.rp, tokens.access_token, user.id)).toMatchObject({ functions: ['EU_UserMaintenance'] });

    await changeFunctions(organizationId, da1.id, da2.id, user.id, ['EU_SettlementDepository']);

    const userinfo = await fetch(c.rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
    await expect(client.refreshTokenGrant(c.rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const sso = await startAuthorization(c.rp, REDIRECT, { scope: 'openid organization' });
    const back = await ua.follow(sso.url.toString(), {}, toClient);
    expect(back.redirectedTo).toBeTruthy();
    const fresh = await redeem(c.rp, new URL(back.redirectedTo!), sso);
    expect(await client.fetchUserInfo(c.rp, fresh.access_token, user.id)).toMatchObject({ functions: ['EU_SettlementDepository'] });
  });
});
