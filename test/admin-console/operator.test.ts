import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliHarness, type CliHarness } from '../support/cli.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

type Who = { id: string; userId: string };

describe('operator screens of the admin console (HTTP)', () => {
  let t: TestIdp;
  let c: TestConsole;
  let operator: Who;
  let da1: Who;
  let da2: Who;
  let organizationId: string;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    organizationId = await t.organization();
    da1 = await t.createAccount({ userId: 'op.da1', delegatedAdministrator: true });
    da2 = await t.createAccount({ userId: 'op.da2', delegatedAdministrator: true });
    operator = await t.createAccount({ userId: 'op.operator', functions: [] });
    await t.idp.identity.accounts.setOperator(operator.id, true, 'test');
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const get = async (who: Who, path: string) => request(c.app).get(path).set('Cookie', await c.cookieFor(who, 'tok'));
  const post = async (who: Who, path: string, form: Record<string, string> = {}, csrf: string | null = 'tok') =>
    request(c.app).post(path).set('Cookie', await c.cookieFor(who, 'tok')).type('form').send(csrf === null ? form : { _csrf: csrf, ...form });
  const membershipOf = async (accountId: string, orgId: string) => (await t.idp.identity.accounts.findAccount(accountId))!.memberships.find((m) => m.organizationId === orgId)!;

  /** A `Sent to operator` request appointing a new member of the test organization, made by da1 and confirmed by da2. */
  async function sentToOperator(userId: string) {
    const member = await t.createAccount({ userId });
    const cr = t.idp.identity.changeRequests;
    const draft = await cr.createDraft({ accountId: da1.id }, { organizationId, type: 'appoint_delegated_administrator', payload: { accountId: member.id } });
    const submitted = await cr.submit({ accountId: da1.id }, draft.id);
    await cr.claim({ accountId: da2.id }, submitted.id);
    const confirmed = await cr.confirm({ accountId: da2.id }, submitted.id, submitted.version);
    expect(confirmed.status).toBe('sent_to_operator');
    return { member, request: confirmed };
  }

  it('answers 404 on every operator page to a delegated administrator who is not an operator, and changes nothing', async () => {
    for (const path of ['/operator', '/operator/organizations', '/operator/requests', '/operator/applications', '/operator/campaigns', `/operator/organizations/${organizationId}`]) {
      expect((await get(da1, path)).status, path).toBe(404);
    }
    const create = await post(da1, '/operator/organizations', { name: 'Sneaky Ltd', participantIds: 'SNEAK1' });
    expect(create.status).toBe(404);
    expect((await t.idp.identity.organizations.listOrganizations()).map((o) => o.name)).not.toContain('Sneaky Ltd');
    const dashboard = await get(da1, '/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).not.toContain('/operator/');
  });

  it('shows the operator the audit events of every organization, and a delegated administrator gets 404 there', async () => {
    const otherOrg = await t.newOrganization();
    const elsewhere = await t.createAccount({ userId: 'op.audit.elsewhere', organization: otherOrg });
    const here = await t.createAccount({ userId: 'op.audit.here' });
    for (const who of [elsewhere, here]) await t.idp.identity.passwordSignIn.verifyPassword(who.userId, 'not-the-password-at-all');
    const page = await get(operator, '/operator/audit?type=account.sign_in_failed');
    expect(page.status).toBe(200);
    expect(page.text).toContain('op.audit.elsewhere');
    expect(page.text).toContain('op.audit.here');
    const csv = await get(operator, '/operator/audit.csv?type=account.sign_in_failed');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text).toContain('op.audit.elsewhere');
    expect((await get(da1, '/operator/audit')).status).toBe(404);
    const own = await get(da1, '/audit?type=account.sign_in_failed');
    expect(own.text).toContain('op.audit.here');
    expect(own.text).not.toContain('op.audit.elsewhere');
  });

  it('still refuses an account that is neither a delegated administrator nor an operator with the 403 page', async () => {
    const user = await t.createAccount({ userId: 'op.user' });
    for (const path of ['/', '/operator/organizations']) {
      const res = await get(user, path);
      expect(res.status).toBe(403);
      expect(res.text).toContain('This console is for delegated administrators');
    }
  });

  it('lets in an operator who administers no organization: the console opens on the operator screens', async () => {
    const home = await get(operator, '/');
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/operator');
    const requests = await get(operator, '/operator');
    expect(requests.headers.location).toBe('/operator/requests');
    const page = await get(operator, '/operator/requests');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Sent to operator</h1>');
    expect(page.text).toContain('aria-label="Operator"');
    expect(page.text).toContain('href="/operator/applications"');
    expect((await get(operator, '/operator/nothing-here')).status).toBe(404);
    const picker = await get(operator, '/organization');
    expect(picker.status).toBe(303);
    expect(picker.headers.location).toBe('/operator');
  });

  it('creates an organization with two participant IDs, adds a third, and refuses a bad one with a field error', async () => {
    const created = await post(operator, '/operator/organizations', { name: 'Harbour Brokers Ltd', participantIds: 'hb001, HB002' });
    expect(created.status).toBe(303);
    const organization = await t.idp.identity.organizations.getOrganization('Harbour Brokers Ltd');
    expect(organization.participantIds).toEqual(['HB001', 'HB002']);
    expect(created.headers.location).toBe(`/operator/organizations/${organization.id}?done=created`);
    const [event] = await t.idp.identity.stores.audit.list({ type: 'organization.created', organizationId: organization.id });
    expect(event?.actor).toBe(`operator:${operator.id}`);

    expect((await post(operator, `/operator/organizations/${organization.id}/participant-ids`, { participantId: 'HB003' })).status).toBe(303);
    const bad = await post(operator, `/operator/organizations/${organization.id}/participant-ids`, { participantId: 'no good!' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('A participant ID is 2–16 capital letters or digits');
    expect(bad.text).toContain('aria-invalid="true"');
    const taken = await post(operator, `/operator/organizations/${organization.id}/participant-ids`, { participantId: 'B09999' });
    expect(taken.status).toBe(409);
    expect((await t.idp.identity.organizations.getOrganization(organization.id)).participantIds).toEqual(['HB001', 'HB002', 'HB003']);

    const empty = await post(operator, '/operator/organizations', { name: '', participantIds: '' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Enter the organization name.');
    expect((await get(operator, '/operator/organizations/not-an-id')).status).toBe(404);
  });

  it('renders an organization name with markup escaped', async () => {
    const payload = '<img src=x onerror=alert(1)>';
    await t.idp.identity.organizations.createOrganization({ name: payload, participantIds: ['XSS01'] }, 'test');
    const page = await get(operator, '/operator/organizations');
    expect(page.text).not.toContain(payload);
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('appoints the first delegated administrator of a new organization from its members', async () => {
    const newOrganization = await t.newOrganization();
    const first = await t.createAccount({ userId: 'op.first', organization: newOrganization });
    const page = await get(operator, `/operator/organizations/${newOrganization}`);
    expect(page.text).toContain(`value="${first.id}"`);
    const foreign = await post(operator, `/operator/organizations/${newOrganization}/delegated-administrators`, { accountId: da1.id });
    expect(foreign.status).toBe(404);
    const appointed = await post(operator, `/operator/organizations/${newOrganization}/delegated-administrators`, { accountId: first.id });
    expect(appointed.status).toBe(303);
    expect((await membershipOf(first.id, newOrganization)).delegatedAdministrator).toBe(true);
    const [event] = await t.idp.identity.stores.audit.list({ type: 'account.delegated_administrator_appointed', accountId: first.id });
    expect(event).toMatchObject({ actor: `operator:${operator.id}`, organizationId: newOrganization });
    expect((await get(first, '/')).status).toBe(200);
  });

  it('registers an application and shows its secret once', async () => {
    const res = await post(operator, '/operator/applications', { clientId: 'op-portal', clientName: 'Op Portal', redirectUris: 'https://portal.example.com/cb\r\nhttp://127.0.0.1:4000/cb', postLogoutRedirectUris: 'https://portal.example.com/' });
    expect(res.status).toBe(201);
    const stored = await t.idp.clients.find('op-portal');
    expect(stored).toMatchObject({ clientName: 'Op Portal', redirectUris: ['https://portal.example.com/cb', 'http://127.0.0.1:4000/cb'], postLogoutRedirectUris: ['https://portal.example.com/'] });
    expect(res.text).toContain(`value="${stored!.clientSecret}"`);
    expect(res.headers['cache-control']).toBe('no-store');
    const list = await get(operator, '/operator/applications');
    expect(list.text).toContain('op-portal');
    expect(list.text).not.toContain(stored!.clientSecret);
    const [event] = await t.idp.identity.stores.audit.list({ type: 'client.created' });
    expect(event).toMatchObject({ actor: `operator:${operator.id}`, data: { clientId: 'op-portal' } });
  });

  it('registers a back-channel logout URI (validated like the redirect URIs) and whether the application is third-party', async () => {
    const bad = await post(operator, '/operator/applications', { clientId: 'op-bcl-bad', redirectUris: 'https://bcl.example.com/cb', backchannelLogoutUri: 'http://bcl.example.com/auth/backchannel-logout' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="backchannelLogoutUri-error"');
    expect(await t.idp.clients.find('op-bcl-bad')).toBeNull();
    const res = await post(operator, '/operator/applications', { clientId: 'op-bcl', redirectUris: 'https://bcl.example.com/cb', backchannelLogoutUri: 'https://bcl.example.com/auth/backchannel-logout' });
    expect(res.status).toBe(201);
    expect(await t.idp.clients.find('op-bcl')).toMatchObject({ backchannelLogoutUri: 'https://bcl.example.com/auth/backchannel-logout', firstParty: true });
    expect((await post(operator, '/operator/applications', { clientId: 'op-partner', redirectUris: 'https://partner.example.com/cb', thirdParty: 'yes' })).status).toBe(201);
    expect(await t.idp.clients.find('op-partner')).toMatchObject({ firstParty: false });
  });

  it.each([
    ['a wildcard host', 'https://*.example.com/cb', 'wildcard'],
    ['a wildcard path', 'https://portal.example.com/*', 'wildcard'],
    ['javascript:', 'javascript:alert(1)', 'must use https'],
    ['data:', 'data:text/html,hi', 'must use https'],
    ['plain http off loopback', 'http://portal.example.com/cb', 'must use https'],
    ['a fragment', 'https://portal.example.com/cb#top', 'fragment'],
  ])('refuses a redirect URI with %s with a field error and stores nothing', async (_what, uri, message) => {
    const clientId = `bad-${Math.random().toString(36).slice(2, 8)}`;
    const res = await post(operator, '/operator/applications', { clientId, redirectUris: uri });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="redirectUris-error"');
    expect(res.text).toContain(message);
    expect(await t.idp.clients.find(clientId)).toBeNull();
  });

  it('completes a Sent-to-operator appointment: the account becomes a delegated administrator', async () => {
    const { member, request: sent } = await sentToOperator('op.appointee');
    const list = await get(operator, '/operator/requests');
    expect(list.text).toContain(sent.reference!);
    expect(list.text).toContain(`href="/operator/requests/${sent.id}"`);
    const page = await get(operator, `/operator/requests/${sent.id}`);
    expect(page.text).toContain('>Complete<');
    const res = await post(operator, `/operator/requests/${sent.id}/complete`, { message: 'Welcome aboard.' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/operator/requests/${sent.id}?done=complete`);
    expect((await t.idp.identity.changeRequests.getForOperator(sent.id)).status).toBe('completed');
    expect((await membershipOf(member.id, organizationId)).delegatedAdministrator).toBe(true);
    const again = await post(operator, `/operator/requests/${sent.id}/complete`);
    expect(again.status).toBe(409);
  });

  it('rejects a Sent-to-operator request only with a comment', async () => {
    const { member, request: sent } = await sentToOperator('op.refused');
    const empty = await post(operator, `/operator/requests/${sent.id}/reject`, { comment: ' ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('id="comment-error"');
    const res = await post(operator, `/operator/requests/${sent.id}/reject`, { comment: 'Not authorised by the firm.' });
    expect(res.status).toBe(303);
    expect((await t.idp.identity.changeRequests.getForOperator(sent.id)).status).toBe('rejected');
    expect((await membershipOf(member.id, organizationId)).delegatedAdministrator).toBe(false);
  });

  it('refuses every operator form without the CSRF token with 403 and changes nothing', async () => {
    const { member, request: sent } = await sentToOperator('op.nocsrf');
    const responses = await Promise.all([
      post(operator, `/operator/requests/${sent.id}/complete`, {}, null),
      post(operator, `/operator/requests/${sent.id}/reject`, { comment: 'x' }, 'wrong'),
      post(operator, '/operator/organizations', { name: 'No Csrf Ltd', participantIds: 'NOCSRF' }, null),
      post(operator, '/operator/applications', { clientId: 'no-csrf', redirectUris: 'https://x.example.com/cb' }, null),
      post(operator, '/operator/campaigns', { registeredBefore: '2024-01-01T00:00:00Z', effectiveFrom: '2024-01-02T00:00:00Z' }, null),
    ]);
    expect(responses.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect((await t.idp.identity.changeRequests.getForOperator(sent.id)).status).toBe('sent_to_operator');
    expect((await membershipOf(member.id, organizationId)).delegatedAdministrator).toBe(false);
    expect((await t.idp.identity.organizations.listOrganizations()).map((o) => o.name)).not.toContain('No Csrf Ltd');
    expect(await t.idp.clients.find('no-csrf')).toBeNull();
    expect(await t.idp.identity.campaigns.listCampaigns()).toHaveLength(0);
  });

  it('creates a re-registration campaign, shows its progress, refuses a bad date and closes it', async () => {
    const bad = await post(operator, '/operator/campaigns', { registeredBefore: 'next tuesday', effectiveFrom: '2024-01-02T00:00:00Z' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="registeredBefore-error"');
    const created = await post(operator, '/operator/campaigns', { registeredBefore: '2024-01-01T00:00:00Z', effectiveFrom: '2024-01-02T00:00:00+08:00', skipUntil: '' });
    expect(created.status).toBe(303);
    const [campaign] = await t.idp.identity.campaigns.listCampaigns();
    expect(campaign).toMatchObject({ registeredBefore: new Date('2024-01-01T00:00:00Z'), effectiveFrom: new Date('2024-01-01T16:00:00Z'), skipUntil: null, createdBy: `operator:${operator.id}` });
    const page = await get(operator, '/operator/campaigns');
    expect(page.text).toContain('0 of 0 re-registered, 0 skipping');
    expect(page.text).toContain(`/operator/campaigns/${campaign!.id}/close`);
    expect((await post(operator, `/operator/campaigns/${campaign!.id}/close`)).status).toBe(303);
    expect((await t.idp.identity.campaigns.listCampaigns())[0]!.closedAt).not.toBeNull();
    expect((await post(operator, '/operator/campaigns/not-a-campaign/close')).status).toBe(404);
  });
});

// Each CLI command is its own process opening the database (seconds each on a busy machine).
describe('the operator role in the operator CLI', { timeout: 120_000 }, () => {
  let cli: CliHarness;

  beforeAll(async () => {
    cli = await startCliHarness();
    await cli.inProcess(async (identity) => {
      const org = await identity.organizations.createOrganization({ name: 'Cli Operators Ltd', participantIds: ['CLIOP'] }, 'test');
      await identity.accounts.createAccount({ organization: org.id, userId: 'cli.operator', name: 'Cli Operator', email: 'cli.operator@example.com', phone: '+852 5555 0000' }, 'test');
    });
  });
  afterAll(() => cli?.dispose());

  it('grants and revokes the operator role, recording both in the audit log', async () => {
    const granted = await cli.iam(['account', 'grant-operator', '--user-id', 'cli.operator', '--json']);
    expect(granted.code).toBe(0);
    expect(JSON.parse(granted.stdout)).toEqual({ userId: 'cli.operator', operator: true, changed: true });
    await cli.inProcess(async (identity) => {
      const view = await identity.accounts.getAccountByLogin('cli.operator');
      expect(view.account.operator).toBe(true);
      const [event] = await identity.stores.audit.list({ type: 'account.operator_granted' });
      expect(event).toMatchObject({ accountId: view.account.id, actor: 'operator-cli' });
    });
    const revoked = await cli.iam(['account', 'revoke-operator', '--user-id', 'CLI.OPERATOR@example.com']);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('cli.operator is now not an operator');
    await cli.inProcess(async (identity) => {
      expect((await identity.accounts.getAccountByLogin('cli.operator')).account.operator).toBe(false);
      expect(await identity.stores.audit.list({ type: 'account.operator_revoked' })).toHaveLength(1);
    });
  });

  it('refuses an unknown user with a clear message and exit code 1, and a missing --user-id with exit code 2', async () => {
    const unknown = await cli.iam(['account', 'grant-operator', '--user-id', 'nobody.here']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No account has the user ID or email "nobody.here"');
    const usage = await cli.iam(['account', 'revoke-operator']);
    expect(usage.code).toBe(2);
  });

  it('refuses a wildcard redirect URI when registering a client', async () => {
    const res = await cli.iam(['client', 'create', '--client-id', 'wild', '--redirect-uri', 'https://*.example.com/cb']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('wildcard');
  });
});
