/**
 * An admin change and its audit event commit together: when the database refuses the audit event (a trigger
 * of the test's own raises on it), the change is not applied either. Runs on both databases; the connection
 * resets of admin-change-reset.test.ts need the PostgreSQL server.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRequestActor } from '../../identity/index.js';
import { DomainError } from '../../lib/index.js';
import { newAccountPayload, openWorld, organizationWithDas, type ChangeRequestWorld } from '../change-requests/support.js';

let world: ChangeRequestWorld;
beforeAll(async () => {
  world = await openWorld();
}, 60_000);
afterAll(() => world?.close(), 60_000);

/** Makes the database refuse audit events of `type` until the returned function is called. */
async function refuseAuditEvents(type: string): Promise<() => Promise<void>> {
  const { db } = world.database;
  await db.execute(sql.raw(`create or replace function test_refuse_audit() returns trigger language plpgsql as $$ begin if new.type = '${type}' then raise exception 'audit event refused by the test'; end if; return new; end $$`));
  await db.execute(sql.raw('create trigger test_refuse_audit before insert on audit_events for each row execute function test_refuse_audit()'));
  return async () => {
    await db.execute(sql.raw('drop trigger test_refuse_audit on audit_events'));
    await db.execute(sql.raw('drop function test_refuse_audit()'));
  };
}

describe('an admin change whose audit event cannot be written', () => {
  it('creates no account, membership or completed request, and all of them with their events once the audit log takes them', async () => {
    const { organization, actors } = await organizationWithDas(world);
    const [maker, checker] = actors as [ChangeRequestActor, ChangeRequestActor];
    const service = world.identity.changeRequests;
    const payload = newAccountPayload();
    const draft = await service.createDraft(maker, { organizationId: organization.id, type: 'create_account', payload });
    await service.submit(maker, draft.id);
    const claimed = await service.claim(checker, draft.id);
    const created = () => world.identity.stores.accounts.findByLogin(payload.userId as string);
    const members = async () => {
      const result = (await world.database.db.execute(sql`select count(*)::int as n from memberships where organization_id = ${organization.id}`)) as unknown as { rows: { n: number }[] };
      return result.rows[0]!.n;
    };
    const events = async () => (await world.identity.stores.audit.list({ organizationId: organization.id })).filter((e) => e.data.changeRequestId === draft.id).map((e) => e.type).sort();

    const allow = await refuseAuditEvents('account.created');
    const error = await service.confirm(checker, draft.id, claimed.version).then(() => null, (e: unknown) => e);
    await allow();
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(DomainError);
    expect(await created()).toBeNull();
    expect(await members()).toBe(2);
    expect((await service.getRequest(checker, draft.id)).status).toBe('claimed');
    expect(await events()).toEqual(['change_request.claimed', 'change_request.created', 'change_request.submitted']);

    const done = await service.confirm(checker, draft.id, claimed.version);
    expect(done.status).toBe('completed');
    expect((await created())?.id).toBe(done.accountId);
    expect(await members()).toBe(3);
    expect(await events()).toEqual(['account.created', 'change_request.claimed', 'change_request.confirmed', 'change_request.created', 'change_request.submitted']);
  });
});
