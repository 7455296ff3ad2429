/**
 * A real database (PGlite, or PostgreSQL with TEST_DATABASE_URL), the real identity services over it, and a
 * mailer that keeps what it sends, for the change-request tests. Each organization gets fresh DAs.
 */
import { expect } from 'vitest';
import { createEventBus, createIdentity, type Account, type ChangeRequestActor, type Identity, type Organization } from '../../identity/index.js';
import { DomainError, systemClock, type MailMessage } from '../../lib/index.js';
import { createIdentityStores, type Database } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';
import { aMembership, anAccount, createdOrganization } from '../storage/fixtures.js';

/** What a test file works with. */
export interface ChangeRequestWorld {
  database: Database;
  identity: Identity;
  /** Every mail sent, in order. */
  mails: MailMessage[];
  close(): Promise<void>;
}

/** Opens the database and wires identity over it. */
export async function openWorld(): Promise<ChangeRequestWorld> {
  const database = await openTestDatabase();
  const mails: MailMessage[] = [];
  const identity = createIdentity({
    stores: createIdentityStores(database),
    events: createEventBus(),
    mailer: { send: async (m) => void mails.push(m) },
    clock: systemClock,
    lockout: { maxFailures: 5, windowSeconds: 1800, maxConsecutiveFailures: 20 },
    otp: { ttlSeconds: 600, resendIntervalSeconds: 30 },
    displayName: 'connect-iam',
  });
  return { database, identity, mails, close: () => database.close() };
}

/** An organization with `das` delegated administrators (actors) and their accounts. */
export async function organizationWithDas(world: ChangeRequestWorld, das = 2): Promise<{ organization: Organization; actors: ChangeRequestActor[]; accounts: Account[] }> {
  const organization = await createdOrganization(world.identity.stores);
  const accounts: Account[] = [];
  for (let i = 0; i < das; i++) accounts.push(await addAccount(world, organization, true));
  return { organization, accounts, actors: accounts.map((a) => ({ accountId: a.id })) };
}

/** Adds an account (a DA when `delegatedAdministrator`) directly, as the operator's seed would. */
export async function addAccount(world: ChangeRequestWorld, organization: Organization, delegatedAdministrator = false): Promise<Account> {
  const account = anAccount();
  await world.identity.stores.accounts.createWithMembership(account, aMembership(account, organization, { delegatedAdministrator }), 20);
  return account;
}

/** A valid `create_account` payload with a unique user ID and email. */
export function newAccountPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { userId, name, email, phone } = anAccount();
  return { userId, name, email, phone, functions: ['EU_ECPReportDownload'], ...overrides };
}

/** The DomainError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}
