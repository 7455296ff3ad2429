/**
 * Accounts: creation under the organization quota, lookup for sign-in and claims.
 */
import { z } from 'zod';
import { DomainError, newId, toFieldErrors, type Clock } from '../../lib/index.js';
import { ACCOUNT_QUOTA_PER_ORGANIZATION, FUNCTION_NAMES, isFunctionName, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../policies/index.js';
import { hashPassword } from '../credentials/password.js';
import { checkNewPassword } from '../credentials/password-policy.js';
import { phoneDigits } from '../recovery/phone.js';
import type { EventBus } from '../events.js';
import type { Account, AccountView } from '../model.js';
import type { AccountStore, LockoutStore, OrganizationAccount, OrganizationStore } from '../stores.js';

/**
 * Input of {@link AccountService.createAccount}. `password` may be omitted (the person sets one later). Every field
 * names the sentence a person reads for any problem with it (the console shows them), never zod's own text.
 */
export const createAccountInput = z.object({
  organization: z.string({ error: 'Give the organization (id, name or participant ID).' }).trim().min(1, 'Give the organization (id, name or participant ID).'),
  userId: z.string({ error: 'A user ID is 3–64 letters, digits, dots, dashes or underscores.' }).trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/, 'A user ID is 3–64 letters, digits, dots, dashes or underscores.'),
  name: z.string({ error: 'Enter the person’s name.' }).trim().min(1, 'Enter the person’s name.').max(200, 'At most 200 characters.'),
  email: z.email('Enter a valid email address.').max(254, 'An email address has at most 254 characters.').transform((e) => e.toLowerCase()),
  phone: z
    .string({ error: 'Enter a phone number: digits, spaces, +, -, brackets.' })
    .trim()
    .regex(/^[+()\d\s-]{6,32}$/, 'Enter a phone number: digits, spaces, +, -, brackets.')
    .refine((p) => phoneDigits(p).length >= 6, 'Enter at least 6 digits.'),
  functions: z
    .array(z.string({ error: 'Choose functions from the catalogue.' }), { error: 'Choose functions from the catalogue.' })
    .default([])
    .superRefine((fs, ctx) => {
      for (const f of fs) if (!isFunctionName(f)) ctx.addIssue({ code: 'custom', message: `Unknown function "${f}". Known: ${FUNCTION_NAMES.join(', ')}.` });
    }),
  delegatedAdministrator: z.boolean({ error: 'Say whether the person is a delegated administrator.' }).default(false),
  password: z
    .string({ error: `A password has ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters.` })
    .min(PASSWORD_MIN_LENGTH, `A password has at least ${PASSWORD_MIN_LENGTH} characters.`)
    .max(PASSWORD_MAX_LENGTH, `A password has at most ${PASSWORD_MAX_LENGTH} characters.`)
    .optional(),
});

export type { AccountView } from '../model.js';

/** Account use cases. */
export interface AccountService {
  /**
   * Creates an account and its membership in the organization, under the quota of 20. A given password must meet
   * the same policy as every other new password (`checkNewPassword`: length, own details, guessability).
   * @throws DomainError `validation_failed` (fieldErrors per field), `not_found` (organization),
   *   `conflict` (user ID or email in use), `quota_exceeded`.
   */
  createAccount(input: z.input<typeof createAccountInput>, actor: string): Promise<AccountView>;
  /** The account view, read in one statement (`AccountStore.findView`). @returns null when the id is unknown. */
  findAccount(accountId: string): Promise<AccountView | null>;
  /** @throws DomainError `not_found`. */
  getAccountByLogin(login: string): Promise<AccountView>;
  /**
   * The organization's accounts (with their membership there), ordered by user ID; `text` searches user ID,
   * name and email. No access check: the caller has checked the actor administers the organization.
   */
  listInOrganization(organizationId: string, query?: { text?: string }): Promise<OrganizationAccount[]>;
  /** How many accounts the organization has, delegated administrators included (what the quota counts). */
  countInOrganization(organizationId: string): Promise<number>;
  /** Clears a lockout. @returns true when the account was locked. */
  unlockAccount(accountId: string, actor: string): Promise<boolean>;
  /**
   * Grants (`operator` true) or revokes the operator role; publishes `account.operator_granted` or
   * `account.operator_revoked` when it changed. @returns true when it changed. @throws DomainError `not_found`.
   */
  setOperator(accountId: string, operator: boolean, actor: string): Promise<boolean>;
  /**
   * The operator appoints a member of the organization delegated administrator directly (the first DAs of an
   * organization, who cannot ask each other yet); publishes `account.delegated_administrator_appointed`.
   * @returns true when it changed, false when the account already was one.
   * @throws DomainError `not_found` (no such membership), `conflict` (the account is not active).
   */
  appointDelegatedAdministrator(accountId: string, organizationId: string, actor: string): Promise<boolean>;
}

/** Creates the account service. */
export function createAccountService(deps: {
  accounts: AccountStore;
  organizations: OrganizationStore;
  lockouts: LockoutStore;
  events: EventBus;
  clock: Clock;
}): AccountService {
  const { accounts, organizations, lockouts, events, clock } = deps;

  async function view(account: Account): Promise<AccountView> {
    return { account, memberships: await accounts.listMemberships(account.id) };
  }

  return {
    async createAccount(input, actor) {
      const parsed = createAccountInput.safeParse(input);
      if (!parsed.success) throw new DomainError('validation_failed', 'The account is not valid.', { fieldErrors: toFieldErrors(parsed.error.issues) });
      const data = parsed.data;
      const organization = await organizations.findByReference(data.organization);
      if (!organization) throw new DomainError('not_found', `No organization matches "${data.organization}".`, { fieldErrors: { organization: ['Unknown organization.'] } });
      if (data.password) {
        const weak = checkNewPassword(data.password, { userId: data.userId, email: data.email, organizationNames: [organization.name] });
        if (weak) throw new DomainError('validation_failed', weak.password?.[0] ?? 'The password does not meet the password policy.', { fieldErrors: weak });
      }
      const now = clock.now();
      const account: Account = {
        id: newId(),
        userId: data.userId,
        name: data.name,
        email: data.email,
        phone: data.phone,
        status: 'active',
        passwordHash: data.password ? await hashPassword(data.password) : null,
        operator: false,
        createdAt: now,
        updatedAt: now,
      };
      const membership = { accountId: account.id, organizationId: organization.id, functions: data.functions, delegatedAdministrator: data.delegatedAdministrator, createdAt: now };
      await accounts.createWithMembership(account, membership, ACCOUNT_QUOTA_PER_ORGANIZATION);
      await events.publish(
        { type: 'account.created', accountId: account.id, organizationId: organization.id, actor, data: { userId: account.userId, functions: data.functions, delegatedAdministrator: data.delegatedAdministrator } },
        now,
      );
      return { account, memberships: [{ ...membership, organization }] };
    },
    findAccount: (accountId) => accounts.findView(accountId),
    async getAccountByLogin(login) {
      const account = await accounts.findByLogin(login.trim());
      if (!account) throw new DomainError('not_found', `No account has the user ID or email "${login}".`);
      return view(account);
    },
    listInOrganization: (organizationId, query = {}) => accounts.listInOrganization(organizationId, { text: query.text }),
    countInOrganization: (organizationId) => accounts.countInOrganization(organizationId),
    async unlockAccount(accountId, actor) {
      const wasLocked = await lockouts.unlock(accountId, clock.now());
      if (wasLocked) await events.publish({ type: 'account.unlocked', accountId, actor }, clock.now());
      return wasLocked;
    },
    async setOperator(accountId, operator, actor) {
      const account = await accounts.findById(accountId);
      if (!account) throw new DomainError('not_found', 'No such account.');
      const changed = await accounts.setOperator(account.id, operator, clock.now());
      if (changed) await events.publish({ type: operator ? 'account.operator_granted' : 'account.operator_revoked', accountId: account.id, actor, data: { userId: account.userId } }, clock.now());
      return changed;
    },
    async appointDelegatedAdministrator(accountId, organizationId, actor) {
      const account = await accounts.findById(accountId);
      if (!account) throw new DomainError('not_found', 'The account is not a member of this organization.');
      if (account.status !== 'active') throw new DomainError('conflict', `The account ${account.userId} is ${account.status}; only an active account can be a delegated administrator.`);
      const changed = await accounts.appointDelegatedAdministrator(accountId, organizationId);
      if (changed) await events.publish({ type: 'account.delegated_administrator_appointed', accountId, organizationId, actor, data: { userId: account.userId, direct: true } }, clock.now());
      return changed;
    },
  };
}
