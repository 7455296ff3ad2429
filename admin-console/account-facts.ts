/**
 * What the console shows about an account of the administered organization: its membership there, status,
 * second factor, lockout state and last sign-in, as plain strings in the deployment's time zone — and which
 * changes make sense for it now. Reads the identity stores (read-only); every change goes through a request.
 */
import { formatInstant, type Account, type ChangeRequestType, type Identity, type LockoutState, type Membership } from '../identity/index.js';
import { FUNCTIONS, isFunctionName } from '../policies/index.js';
import { accountFactors, type AccountFactors } from './account-factors.js';

/** An account of the organization with its lockout state (null: never failed a sign-in). */
export interface AccountWithLockout {
  account: Account;
  membership: Membership;
  lockout: LockoutState | null;
}

/** The organization's accounts (as `listInOrganization` returns them) with each one's lockout state. */
export async function withLockouts(identity: Identity, rows: Array<{ account: Account; membership: Membership }>): Promise<AccountWithLockout[]> {
  return Promise.all(rows.map(async (row) => ({ ...row, lockout: await identity.stores.lockouts.find(row.account.id) })));
}

/** True when the lockout state says the account is locked (5 failures; cleared only by unlock or reset). */
export function isLocked(lockout: LockoutState | null): boolean {
  return Boolean(lockout?.lockedAt);
}

/**
 * The account `accountId` with its membership in `organizationId`, or null when it is unknown or not a
 * member there (the caller answers 404 either way).
 */
export async function findOrganizationAccount(identity: Identity, organizationId: string, accountId: string): Promise<AccountWithLockout | null> {
  const view = await identity.accounts.findAccount(accountId);
  const membership = view?.memberships.find((m) => m.organizationId === organizationId);
  if (!view || !membership) return null;
  return { account: view.account, membership, lockout: await identity.stores.lockouts.find(accountId) };
}

/**
 * The change request types that make sense for the account in its current state (the service checks again).
 * `hasSecondFactor`: it has an authenticator app or a passkey (what a second-factor reset removes).
 */
export function applicableChanges({ account, membership, lockout }: AccountWithLockout, hasSecondFactor: boolean): ChangeRequestType[] {
  if (account.status === 'closed') return [];
  const types: ChangeRequestType[] = ['change_functions'];
  types.push(account.status === 'active' ? 'suspend_account' : 'reactivate_account');
  if (isLocked(lockout)) types.push('unlock_account');
  if (hasSecondFactor) types.push('reset_second_factor');
  types.push('close_account');
  types.push(membership.delegatedAdministrator ? 'remove_delegated_administrator' : 'appoint_delegated_administrator');
  return types;
}

/** The status as shown: `active`, `suspended`, `closed`, with `· locked` when the lockout says so. */
export function statusLabel(account: Account, lockout: LockoutState | null): string {
  return isLocked(lockout) && account.status !== 'closed' ? `${account.status} · locked` : account.status;
}

/** A function name with its catalogue title, e.g. `EU_ECPSFTP (ECP through SFTP)`. */
function functionLabel(name: string): string {
  return isFunctionName(name) ? `${name} (${FUNCTIONS[name].title})` : name;
}

/** The detail page's facts, every value a string. */
export interface AccountFacts {
  id: string;
  userId: string;
  name: string;
  email: string;
  phone: string;
  status: string;
  functions: string[];
  /** The raw function names of the membership (the change-functions form starts from them). */
  functionNames: string[];
  delegatedAdministrator: string;
  memberSince: string;
  secondFactor: string;
  /** Each factor type the account has, its passkeys and the phishing-resistant requirement (account-factors.ts). */
  factors: AccountFactors;
  lockout: string;
  lastSignIn: string;
  changes: ChangeRequestType[];
}

/** Gathers the facts of `target` for the detail page, times formatted in `timeZone` (IANA). */
export async function accountFacts(identity: Identity, target: AccountWithLockout, timeZone: string): Promise<AccountFacts> {
  const { account, membership, lockout } = target;
  const [app, signIns, factors] = await Promise.all([
    identity.stores.authenticators.findConfirmed(account.id),
    identity.stores.audit.list({ accountId: account.id, type: 'account.signed_in', limit: 1 }),
    accountFactors(identity, account, timeZone),
  ]);
  const at = (d: Date) => formatInstant(d, timeZone);
  let lockoutText = 'Not locked';
  if (lockout?.lockedAt) lockoutText = `Locked since ${at(lockout.lockedAt)} after ${lockout.attempts} failed attempts`;
  else if (lockout && lockout.attempts > 0) lockoutText = `Not locked; ${lockout.attempts} failed attempt${lockout.attempts === 1 ? '' : 's'} since ${at(lockout.windowStartedAt)}`;
  return {
    id: account.id,
    userId: account.userId,
    name: account.name,
    email: account.email,
    phone: account.phone,
    status: statusLabel(account, lockout),
    functions: membership.functions.map(functionLabel),
    functionNames: membership.functions,
    delegatedAdministrator: membership.delegatedAdministrator ? 'Yes' : 'No',
    memberSince: at(membership.createdAt),
    secondFactor: app?.confirmedAt ? `Authenticator app since ${at(app.confirmedAt)}` : app ? 'Authenticator app' : 'Email code',
    lockout: lockoutText,
    lastSignIn: signIns[0] ? at(signIns[0].occurredAt) : 'Never',
    factors,
    changes: applicableChanges(target, factors.resettable),
  };
}
