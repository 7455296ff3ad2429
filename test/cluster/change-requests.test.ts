/**
 * Maker-checker across two instances: delegated administrators signed in to the admin console (which runs in
 * each instance, behind its own round-robin proxy) act on one change request at the same moment, one on A
 * and one on B. The row guards in PostgreSQL decide, whichever instance each request reached.
 *
 * Runs only on a PostgreSQL server (the `postgres` project): two processes cannot share an embedded database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRequestView } from '../../identity/index.js';
import { usingPostgresServer } from '../support/database.js';
import { textOf, type Page } from '../support/user-agent.js';
import { ClusterAgent, createAccount, createOrganization, signInToConsole, startCluster, type Cluster, type InstanceName } from './cluster.js';

describe.skipIf(!usingPostgresServer)('change requests decided at once on two instances', () => {
  let cluster: Cluster;
  let organization: string;
  let maker: Awaited<ReturnType<typeof createAccount>>;
  const checkers: Array<{ account: Awaited<ReturnType<typeof createAccount>>; ua: ClusterAgent }> = [];
  let serial = 0;

  beforeAll(async () => {
    cluster = await startCluster();
    organization = await createOrganization(cluster, 'Cluster Checkers Ltd');
    maker = await createAccount(cluster, organization, 'cluster.maker', { delegatedAdministrator: true });
    for (const userId of ['cluster.checker1', 'cluster.checker2']) {
      const account = await createAccount(cluster, organization, userId, { delegatedAdministrator: true });
      const ua = new ClusterAgent();
      await signInToConsole(cluster, ua, account);
      checkers.push({ account, ua });
    }
  }, 150_000);
  afterAll(() => cluster?.close(), 60_000);

  /** A new-account request the maker submitted (made through the identity services, as the maker's own screens would). */
  async function submittedRequest(): Promise<ChangeRequestView> {
    const userId = `cluster.new${++serial}`;
    const payload = { userId, name: `New ${serial}`, email: `${userId}@example.com`, phone: '+852 5555 0199', functions: ['EU_ECPReportDownload'] };
    const draft = await cluster.identity.changeRequests.createDraft({ accountId: maker.id }, { organizationId: organization, type: 'create_account', payload });
    return cluster.identity.changeRequests.submit({ accountId: maker.id }, draft.id);
  }

  /** The request page as `checker` sees it on `instance`. */
  async function open(checker: (typeof checkers)[number], instance: InstanceName, requestId: string): Promise<Page> {
    const page = await checker.ua.on(instance, () => checker.ua.request(`${cluster.consoleUrl}/requests/${requestId}`));
    expect(page.status, textOf(page.html).slice(0, 200)).toBe(200);
    return page;
  }
  /** Presses `button` on `page` on `instance`; the console's first answer, no redirect followed. */
  const submit = (checker: (typeof checkers)[number], instance: InstanceName, page: Page, button: string) =>
    checker.ua.on(instance, () => checker.ua.submit(page, {}, { button, stopAt: () => true }));
  const accounts = async () => cluster.identity.stores.accounts.countInOrganization(organization);
  /** Which console instance answered POSTs to `/requests/<id>/<action>`. */
  const served = (requestId: string, action: string) => cluster.consoleProxy.log.filter((r) => r.method === 'POST' && r.path === `/requests/${requestId}/${action}`).map((r) => r.instance).sort();

  it('lets one of two checkers claiming at once (one on A, one on B) win; the other is told who claimed it', async () => {
    const request = await submittedRequest();
    const [first, second] = checkers as [(typeof checkers)[number], (typeof checkers)[number]];
    const pages = [await open(first, 'A', request.id), await open(second, 'B', request.id)];
    const answers = await Promise.all([submit(first, 'A', pages[0]!, 'Claim'), submit(second, 'B', pages[1]!, 'Claim')]);
    const summary = answers.map((a) => `${a.status} ${textOf(a.html).slice(0, 160)}`).join(' | ');
    expect(answers.map((a) => a.status).sort(), summary).toEqual([303, 409]);
    expect(served(request.id, 'claim')).toEqual(['A', 'B']);
    const winner = answers[0]!.status === 303 ? first : second;
    expect(textOf(answers.find((a) => a.status === 409)!.html)).toContain(`already claimed by Test ${winner.account.userId}`);
    expect((await cluster.identity.changeRequests.getRequest({ accountId: maker.id }, request.id)).checkerId).toBe(winner.account.id);
  });

  it('applies a request once when its checker confirms it on A and on B at the same moment', async () => {
    const request = await submittedRequest();
    const checker = checkers[0]!;
    await cluster.identity.changeRequests.claim({ accountId: checker.account.id }, request.id);
    const before = await accounts();
    const pages = [await open(checker, 'A', request.id), await open(checker, 'B', request.id)];
    const answers = await Promise.all([submit(checker, 'A', pages[0]!, 'Confirm'), submit(checker, 'B', pages[1]!, 'Confirm')]);
    const summary = answers.map((a) => `${a.status} ${textOf(a.html).slice(0, 160)}`).join(' | ');
    expect(answers.map((a) => a.status).sort(), summary).toEqual([303, 409]);
    expect(served(request.id, 'confirm')).toEqual(['A', 'B']);
    expect(textOf(answers.find((a) => a.status === 409)!.html)).toMatch(/UM_\d{8} is already completed/);
    expect(await accounts()).toBe(before + 1);
    const view = await cluster.identity.changeRequests.getRequest({ accountId: maker.id }, request.id);
    expect(view.status).toBe('completed');
    expect(await cluster.identity.stores.accounts.findByLogin(String(view.payload.userId))).not.toBeNull();
  });

  it('creates one account when two new-account requests are confirmed at once on A and B at 19 of 20; the other is refused with the quota', async () => {
    const checker = checkers[0]!;
    const requests = [await submittedRequest(), await submittedRequest()];
    for (const request of requests) await cluster.identity.changeRequests.claim({ accountId: checker.account.id }, request.id);
    for (let i = 0; (await accounts()) < 19; i++) await createAccount(cluster, organization, `cluster.filler${i}`, { withPassword: false });
    expect(await accounts()).toBe(19);

    const pages = [await open(checker, 'A', requests[0]!.id), await open(checker, 'B', requests[1]!.id)];
    const answers = await Promise.all([submit(checker, 'A', pages[0]!, 'Confirm'), submit(checker, 'B', pages[1]!, 'Confirm')]);
    const summary = answers.map((a) => `${a.status} ${textOf(a.html).slice(0, 160)}`).join(' | ');
    const refused = answers.filter((a) => a.status !== 303);
    expect(refused, summary).toHaveLength(1);
    expect(refused[0]!.status).toBeGreaterThanOrEqual(400);
    expect(refused[0]!.status).toBeLessThan(500);
    expect(textOf(refused[0]!.html)).toContain('The organization has 20 of 20 accounts; the limit is 20.');
    expect(await accounts()).toBe(20);
    const statuses = await Promise.all(requests.map(async (r) => (await cluster.identity.changeRequests.getRequest({ accountId: maker.id }, r.id)).status));
    expect(statuses.sort()).toEqual(['claimed', 'completed']);
  });
});
