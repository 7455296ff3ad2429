/**
 * {@link AccountStore} on PostgreSQL. Creation counts the organization's memberships under a row lock on
 * the organization (`SELECT … FOR UPDATE`), so concurrent creations never exceed the quota
 * (design/security.md §8); user ID and email are unique case-insensitively through indexes on `lower()`.
 */
import { and, asc, count, eq, getTableColumns, ilike, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Account, AccountStore, AccountView, Membership, MembershipWithOrganization } from '../identity/index.js';
import { DomainError } from '../lib/index.js';
import type { Db, Executor } from './database.js';
import { isUuid, uniqueViolation } from './postgres-errors.js';
import { accounts, memberships, organizations } from './schema.js';

function conflictFor(account: Account, constraint: string): DomainError {
  if (constraint === 'accounts_user_id_lower_key') {
    return new DomainError('conflict', `The user ID "${account.userId}" is already taken.`, { fieldErrors: { userId: ['This user ID is already taken.'] } });
  }
  if (constraint === 'accounts_email_lower_key') {
    return new DomainError('conflict', `The email address ${account.email} is already registered.`, { fieldErrors: { email: ['This email address is already registered to an account.'] } });
  }
  return new DomainError('conflict', 'This account already exists.');
}

/**
 * Locks the organization row, counts its memberships and inserts the account and membership when fewer than
 * `quota` exist — on `tx`, inside a transaction the caller opened (design/security.md §8).
 * @throws DomainError `not_found` (organization), `quota_exceeded`, `conflict` (user ID or email taken, fieldErrors say which).
 */
export async function insertUnderQuota(tx: Executor, account: Account, membership: Membership, quota: number): Promise<void> {
  const [organization] = isUuid(membership.organizationId) ? await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, membership.organizationId)).for('update') : [];
  if (!organization) throw new DomainError('not_found', 'The organization does not exist.', { fieldErrors: { organization: ['Unknown organization.'] } });
  const [row] = await tx.select({ n: count() }).from(memberships).where(eq(memberships.organizationId, membership.organizationId));
  const existing = row?.n ?? 0;
  if (existing >= quota) {
    throw new DomainError('quota_exceeded', `The organization has ${existing} of ${quota} accounts; the limit is ${quota}.`);
  }
  try {
    await tx.insert(accounts).values(account);
    await tx.insert(memberships).values(membership);
  } catch (error) {
    const constraint = uniqueViolation(error);
    if (constraint === null) throw error;
    throw conflictFor(account, constraint);
  }
}

/** One membership as the view's JSON subquery returns it (timestamps as ISO strings). */
interface MembershipJson {
  organizationId: string;
  functions: string[];
  delegatedAdministrator: boolean;
  createdAt: string;
  organization: { id: string; name: string; createdAt: string; participantIds: string[] };
}

/**
 * The memberships of the outer query's account as one JSON array (oldest first), each with its organization
 * and that organization's participant IDs in their order: correlated `json_agg` subqueries, plain PostgreSQL
 * (PGlite, a server, or a PostgreSQL-compatible distributed database).
 */
const membershipsJson = sql<MembershipJson[]>`coalesce((
  select json_agg(json_build_object(
    'organizationId', m.organization_id,
    'functions', m.functions,
    'delegatedAdministrator', m.delegated_administrator,
    'createdAt', m.created_at,
    'organization', json_build_object(
      'id', o.id,
      'name', o.name,
      'createdAt', o.created_at,
      'participantIds', coalesce((select json_agg(p.participant_id order by p.position) from participant_ids p where p.organization_id = o.id), '[]'::json)
    )
  ) order by m.created_at, m.organization_id)
  from memberships m join organizations o on o.id = m.organization_id
  where m.account_id = accounts.id
), '[]'::json)`;

/** A membership of the view, from its JSON form. */
function membershipFromJson(accountId: string, m: MembershipJson): MembershipWithOrganization {
  const { organization } = m;
  return {
    accountId,
    organizationId: m.organizationId,
    functions: m.functions,
    delegatedAdministrator: m.delegatedAdministrator,
    createdAt: new Date(m.createdAt),
    organization: { id: organization.id, name: organization.name, participantIds: organization.participantIds, createdAt: new Date(organization.createdAt) },
  };
}

/** The account view as {@link accountViewJson} gives it: the account's columns by their TypeScript names. */
export interface AccountViewJson {
  account: Record<string, unknown>;
  memberships: MembershipJson[];
}

const accountColumns = Object.entries(getTableColumns(accounts));
const ACCOUNT_ID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * The view of the account whose id is `accountIdText` (a text expression of another statement; anything but a
 * UUID matches no account) as one JSON object, or null: the same columns and memberships as {@link
 * AccountStore.findView}, for a statement that reads the account with something else (storage/oidc-models.ts).
 */
export function accountViewJson(accountIdText: SQL): SQL<AccountViewJson | string | null> {
  // Columns written out with their table: inside another statement's select list drizzle would leave it off.
  const columns = sql.join(accountColumns.map(([key, column]) => sql.raw(`'${key}', accounts."${column.name}"`)), sql`, `);
  return sql`(select json_build_object('account', json_build_object(${columns}), 'memberships', ${membershipsJson}) from accounts
    where accounts.id = (case when ${accountIdText} ~ ${sql.raw(`'${ACCOUNT_ID_PATTERN}'`)} then (${accountIdText})::uuid end))`;
}

/** An {@link AccountView} from {@link accountViewJson}'s JSON (the columns decoded as drizzle decodes them). */
export function accountViewFromJson(json: AccountViewJson | string): AccountView {
  const { account: columns, memberships: list } = (typeof json === 'string' ? JSON.parse(json) : json) as AccountViewJson;
  const account = Object.fromEntries(accountColumns.map(([key, column]) => [key, columns[key] === null || columns[key] === undefined ? null : column.mapFromDriverValue(columns[key])])) as unknown as Account;
  return { account, memberships: list.map((m) => membershipFromJson(account.id, m)) };
}

/** Views of accounts read by another statement of an oidc-provider request, by request, then account id (once each). */
const sharedViews = new WeakMap<object, Map<string, AccountView | null>>();
/** The running request, as the last {@link shareAccountView} caller tells it; undefined until one shares a view. */
let currentRequest: (() => object | undefined) | undefined;

/**
 * Hands `view` — the account `accountId` as another statement of request `ctx` read it (null: no such account) — to
 * the next {@link AccountStore.findView} of that account in the same request, which then sends no statement.
 * Nothing outlives the request, so a suspension or any change is seen by the next one; an update of the account
 * in the request drops it. `current` gives the running request (oidc-provider's `Provider.ctx`).
 */
export function shareAccountView(ctx: object, current: () => object | undefined, accountId: string, view: AccountView | null): void {
  currentRequest = current;
  let views = sharedViews.get(ctx);
  if (!views) sharedViews.set(ctx, (views = new Map()));
  views.set(accountId, view);
}

/** The view of `accountId` shared with the running request (taken: once), or undefined. */
function takeSharedView(accountId: string): AccountView | null | undefined {
  const ctx = currentRequest?.();
  const views = ctx ? sharedViews.get(ctx) : undefined;
  if (!views?.has(accountId)) return undefined;
  const view = views.get(accountId)!;
  views.delete(accountId);
  return view;
}

/** Forgets a view shared with the running request: the account is being changed. */
function dropSharedView(accountId: string): void {
  const ctx = currentRequest?.();
  if (ctx) sharedViews.get(ctx)?.delete(accountId);
}

/** Creates the account store over `db`. */
export function createAccountStore(db: Db): AccountStore {
  async function update(accountId: string, values: Partial<typeof accounts.$inferInsert>): Promise<void> {
    dropSharedView(accountId);
    const updated = isUuid(accountId) ? await db.update(accounts).set(values).where(eq(accounts.id, accountId)).returning({ id: accounts.id }) : [];
    if (updated.length === 0) throw new DomainError('not_found', 'The account does not exist.');
  }

  /**
   * The view's statement, prepared once (drizzle builds it once; `pg` sends it as a named statement, parsed once
   * per connection): it runs on every token, userinfo and sign-in request (issue 10 §3).
   */
  let viewStatement: ReturnType<typeof prepareView> | undefined;
  function prepareView() {
    return db
      .select({ ...getTableColumns(accounts), memberships: membershipsJson })
      .from(accounts)
      .where(eq(accounts.id, sql.placeholder('id')))
      .limit(1)
      .prepare('accounts_find_view');
  }

  /** {@link AccountStore.findView}: one statement, or none when another statement of the request read it ({@link shareAccountView}). */
  async function findView(id: string): Promise<AccountView | null> {
    if (!isUuid(id)) return null;
    const shared = takeSharedView(id);
    if (shared !== undefined) return shared;
    const [row] = await (viewStatement ??= prepareView()).execute({ id });
    if (!row) return null;
    const { memberships: json, ...account } = row;
    // pg parses `json` itself; PGlite may hand the text over.
    const list = (typeof json === 'string' ? JSON.parse(json) : json) as MembershipJson[];
    return { account, memberships: list.map((m) => membershipFromJson(account.id, m)) };
  }

  return {
    async createWithMembership(account, membership, quota) {
      await db.transaction((tx) => insertUnderQuota(tx, account, membership, quota));
    },

    async findById(id) {
      if (!isUuid(id)) return null;
      const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
      return row ?? null;
    },

    findView,

    async findByLogin(login) {
      const [row] = await db
        .select()
        .from(accounts)
        .where(or(sql`lower(${accounts.userId}) = lower(${login})`, sql`lower(${accounts.email}) = lower(${login})`))
        .limit(1);
      return row ?? null;
    },

    async listMemberships(accountId) {
      return (await findView(accountId))?.memberships ?? [];
    },

    async countInOrganization(organizationId) {
      if (!isUuid(organizationId)) return 0;
      const [row] = await db.select({ n: count() }).from(memberships).where(eq(memberships.organizationId, organizationId));
      return row?.n ?? 0;
    },

    async listInOrganization(organizationId, query = {}) {
      if (!isUuid(organizationId)) return [];
      const text = query.text?.trim();
      const pattern = text ? `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      const rows = await db
        .select({ account: accounts, membership: memberships })
        .from(memberships)
        .innerJoin(accounts, eq(accounts.id, memberships.accountId))
        .where(and(eq(memberships.organizationId, organizationId), pattern ? or(ilike(accounts.userId, pattern), ilike(accounts.name, pattern), ilike(accounts.email, pattern)) : undefined))
        .orderBy(asc(sql`lower(${accounts.userId})`))
        .limit(query.limit ?? 200);
      return rows;
    },

    async setOperator(accountId, operator, now) {
      dropSharedView(accountId);
      if (!isUuid(accountId)) return false;
      const changed = await db.update(accounts).set({ operator, updatedAt: now }).where(and(eq(accounts.id, accountId), ne(accounts.operator, operator))).returning({ id: accounts.id });
      return changed.length > 0;
    },

    async appointDelegatedAdministrator(accountId, organizationId) {
      dropSharedView(accountId);
      const member = and(eq(memberships.accountId, accountId), eq(memberships.organizationId, organizationId));
      const [found] = isUuid(accountId) && isUuid(organizationId) ? await db.select({ da: memberships.delegatedAdministrator }).from(memberships).where(member).limit(1) : [];
      if (!found) throw new DomainError('not_found', 'The account is not a member of this organization.');
      const changed = await db.update(memberships).set({ delegatedAdministrator: true }).where(and(member, eq(memberships.delegatedAdministrator, false))).returning({ id: memberships.accountId });
      return changed.length > 0;
    },

    updatePasswordHash: (accountId, passwordHash, now) => update(accountId, { passwordHash, updatedAt: now }),
    setStatus: (accountId, status, now) => update(accountId, { status, updatedAt: now }),
  };
}
