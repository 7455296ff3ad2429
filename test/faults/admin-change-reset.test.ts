/**
 * A connection reset inside an admin change: a confirmed change request is all or nothing. The account, its
 * membership, the organization's quota count, the request's status and the change's audit events agree after
 * the database connection is reset at any point of the change — the audit events are written in the change's
 * transaction (design/style.md), not after it commits.
 *
 * PostgreSQL server only (the postgres project): the reset is played by a TCP proxy between the app's pool and
 * the server; the embedded database runs in-process, with no connection to reset.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, createIdentity, type ChangeRequestActor, type ChangeRequestType, type Identity, type Organization } from '../../identity/index.js';
import { DomainError, systemClock } from '../../lib/index.js';
import { createIdentityStores, openDatabase, type Database } from '../../storage/index.js';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { aMembership, anAccount, createdOrganization } from '../storage/fixtures.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';

/** The first chunk toward the server that writes audit events (drizzle's statement text in the Parse message). */
const auditInsert = (chunk: Buffer, direction: string) => direction === 'up' && chunk.includes('insert into "audit_events"');

/** The answer to the COMMIT of the connection that updated a change request: the server committed, the app never hears it. */
function commitAnswerAfterTransition() {
  const transitioned = new Set<number>();
  return (chunk: Buffer, direction: string, connection: number) => {
    if (direction === 'up' && chunk.includes('update "change_requests"')) transitioned.add(connection);
    return direction === 'down' && transitioned.has(connection) && chunk.includes('COMMIT');
  };
}

// Runs only in the postgres project (TEST_DATABASE_URL): the embedded database has no connection to reset.
describe.skipIf(!usingPostgresServer)('a connection reset inside an admin change (a TCP proxy between the pool and PostgreSQL)', () => {
  let proxy: FaultProxy;
  let database: Database;
  let identity: Identity;
  let direct: pg.Client;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const db = await separateProcessDatabase();
    dispose = db.dispose;
    const directUrl = db.env.DATABASE_URL!;
    proxy = await startFaultProxy(directUrl);
    database = await openDatabase({ url: proxy.url, poolSize: 4, connectTimeoutSeconds: 2, statementTimeoutSeconds: 2, idleInTransactionTimeoutSeconds: 2 });
    identity = createIdentity({
      stores: createIdentityStores(database),
      events: createEventBus(),
      mailer: { send: async () => {} },
      clock: systemClock,
      lockout: { maxFailures: 5, windowSeconds: 1800, maxConsecutiveFailures: 20 },
      otp: { ttlSeconds: 600, resendIntervalSeconds: 30 },
      displayName: 'connect-iam',
    });
    direct = new pg.Client({ connectionString: directUrl });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.end();
    await database?.close();
    await proxy?.close();
    await dispose?.();
  });

  /** An organization with a maker and a checker (both DAs) and `members` other accounts. */
  async function organizationWith(members = 0): Promise<{ organization: Organization; maker: ChangeRequestActor; checker: ChangeRequestActor; accountIds: string[] }> {
    const organization = await createdOrganization(identity.stores);
    const ids: string[] = [];
    for (let i = 0; i < members + 2; i++) {
      const account = anAccount();
      await identity.stores.accounts.createWithMembership(account, aMembership(account, organization, { delegatedAdministrator: i < 2 }), 20);
      ids.push(account.id);
    }
    return { organization, maker: { accountId: ids[0]! }, checker: { accountId: ids[1]! }, accountIds: ids.slice(2) };
  }

  /** A request of `type` made by `maker` and claimed by `checker`, ready to confirm. */
  async function claimed(maker: ChangeRequestActor, checker: ChangeRequestActor, organizationId: string, type: ChangeRequestType, payload: Record<string, unknown>) {
    const draft = await identity.changeRequests.createDraft(maker, { organizationId, type, payload });
    await identity.changeRequests.submit(maker, draft.id);
    return identity.changeRequests.claim(checker, draft.id);
  }

  /** What the database holds about a request and its organization, read past the proxy. */
  async function stateOf(requestId: string, organizationId: string, userId?: string) {
    const one = async (text: string, values: unknown[]) => (await direct.query(text, values)).rows[0] as Record<string, unknown>;
    const request = await one('select status, account_id from change_requests where id = $1', [requestId]);
    const account = userId ? await one('select id, status from accounts where user_id = $1', [userId]) : undefined;
    const members = await one('select count(*)::int as n from memberships where organization_id = $1', [organizationId]);
    const audit = await direct.query("select type from audit_events where data->>'changeRequestId' = $1 and type not in ('change_request.created', 'change_request.submitted', 'change_request.claimed', 'change_request.confirmation_refused') order by type", [requestId]);
    return { status: request!.status, account: account ? { status: account.status } : null, members: members!.n, audit: audit.rows.map((r: { type: string }) => r.type) };
  }

  /** Confirms, expecting the reset to fail the call with a connection error (not a refusal). */
  async function confirmThroughReset(checker: ChangeRequestActor, requestId: string, version: number, reset: Promise<void>) {
    const error = await identity.changeRequests.confirm(checker, requestId, version).then(() => null, (e: unknown) => e);
    await reset;
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(DomainError);
  }

  it('creates nothing when the connection is reset as the audit events are written, and all of it when confirmed again', async () => {
    const { organization, maker, checker } = await organizationWith();
    const payload = { ...newAccount(), functions: ['EU_ECPReportDownload'] };
    const request = await claimed(maker, checker, organization.id, 'create_account', payload);

    await confirmThroughReset(checker, request.id, request.version, proxy.resetWhen(auditInsert));
    expect(await stateOf(request.id, organization.id, payload.userId)).toEqual({ status: 'claimed', account: null, members: 2, audit: [] });

    await identity.changeRequests.confirm(checker, request.id, request.version);
    expect(await stateOf(request.id, organization.id, payload.userId)).toEqual({ status: 'completed', account: { status: 'active' }, members: 3, audit: ['account.created', 'change_request.confirmed'] });
  });

  it('has the account, its membership and its audit events when the connection is reset as the commit is answered', async () => {
    const { organization, maker, checker } = await organizationWith();
    const payload = { ...newAccount(), functions: ['EU_ECPReportDownload'] };
    const request = await claimed(maker, checker, organization.id, 'create_account', payload);

    await confirmThroughReset(checker, request.id, request.version, proxy.resetWhen(commitAnswerAfterTransition()));
    expect(await stateOf(request.id, organization.id, payload.userId)).toEqual({ status: 'completed', account: { status: 'active' }, members: 3, audit: ['account.created', 'change_request.confirmed'] });

    // Confirming again is refused (it is done), and changes nothing.
    await expect(identity.changeRequests.confirm(checker, request.id, request.version)).rejects.toBeInstanceOf(DomainError);
    expect((await stateOf(request.id, organization.id, payload.userId)).audit).toEqual(['account.created', 'change_request.confirmed']);
  });

  it('uses no quota for a creation the reset undid: the last free place goes to the next confirmed request', async () => {
    const { organization, maker, checker } = await organizationWith(17); // 2 DAs + 17 = 19 of 20
    const first = { ...newAccount(), functions: ['EU_ECPReportDownload'] };
    const second = { ...newAccount(), functions: ['EU_ECPReportDownload'] };
    const a = await claimed(maker, checker, organization.id, 'create_account', first);
    const b = await claimed(maker, checker, organization.id, 'create_account', second);

    await confirmThroughReset(checker, a.id, a.version, proxy.resetWhen(auditInsert));
    await identity.changeRequests.confirm(checker, b.id, b.version);
    expect(await stateOf(b.id, organization.id, second.userId)).toEqual({ status: 'completed', account: { status: 'active' }, members: 20, audit: ['account.created', 'change_request.confirmed'] });

    const refused = await identity.changeRequests.confirm(checker, a.id, a.version).then(() => null, (e: unknown) => e);
    expect(refused).toMatchObject({ code: 'quota_exceeded' });
    expect(await stateOf(a.id, organization.id, first.userId)).toEqual({ status: 'claimed', account: null, members: 20, audit: [] });
  });

  it('leaves the account active and unaudited when a suspension is reset as its audit events are written, and suspends it with its event when confirmed again', async () => {
    const { organization, maker, checker, accountIds } = await organizationWith(1);
    const accountId = accountIds[0]!;
    const request = await claimed(maker, checker, organization.id, 'suspend_account', { accountId });
    const statusOf = async () => (await direct.query('select status from accounts where id = $1', [accountId])).rows[0]?.status;

    await confirmThroughReset(checker, request.id, request.version, proxy.resetWhen(auditInsert));
    expect({ ...(await stateOf(request.id, organization.id)), account: await statusOf() }).toEqual({ status: 'claimed', account: 'active', members: 3, audit: [] });

    await identity.changeRequests.confirm(checker, request.id, request.version);
    expect({ ...(await stateOf(request.id, organization.id)), account: await statusOf() }).toEqual({ status: 'completed', account: 'suspended', members: 3, audit: ['account.suspended', 'change_request.confirmed'] });
  });
});

/** A new account's details (unique user ID and email). */
function newAccount() {
  const { userId, name, email, phone } = anAccount();
  return { userId, name, email, phone };
}
