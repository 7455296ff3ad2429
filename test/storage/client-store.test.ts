import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/index.js';
import { createClientStore, type ClientStore, type Database, type NewClient } from '../../storage/index.js';
import { oidcClients } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';

const KEY = Buffer.alloc(32, 3);
const client = (overrides: Partial<NewClient> = {}): NewClient => ({ clientId: 'eservice-portal', redirectUris: ['https://eservice.example/auth/callback'], postLogoutRedirectUris: [], firstParty: true, ...overrides });

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('registered clients', () => {
  let database: Database;
  let clients: ClientStore;

  beforeAll(async () => {
    database = await openTestDatabase();
    clients = createClientStore(database, KEY);
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('generates a 256-bit secret, stores it sealed, and gives it back only through find', async () => {
    const created = await clients.create(client({ clientId: 'generated-secret' }));
    expect(Buffer.from(created.clientSecret!, 'base64url')).toHaveLength(32);
    const [row] = await database.db.select().from(oidcClients).where(eq(oidcClients.clientId, 'generated-secret'));
    expect(row?.clientSecret?.startsWith('v2.')).toBe(true);
    expect(row?.clientSecret).not.toContain(created.clientSecret!);
    expect((await clients.find('generated-secret'))?.clientSecret).toBe(created.clientSecret);
    expect((await clients.list()).find((c) => c.clientId === 'generated-secret')).not.toHaveProperty('clientSecret');
    // Sealed for its client: copied into another client's row, it does not open.
    await clients.create(client({ clientId: 'copied-into' }));
    await database.db.update(oidcClients).set({ clientSecret: row!.clientSecret }).where(eq(oidcClients.clientId, 'copied-into'));
    await expect(clients.find('copied-into')).rejects.toThrow(/could not be decrypted/);
    expect(await clients.find('nobody')).toBeNull();
  });

  it('refuses a client ID that is already registered', async () => {
    await clients.create(client({ clientId: 'taken-id' }));
    const error = await refusal(clients.create(client({ clientId: 'taken-id' })));
    expect(error.code).toBe('conflict');
    expect(Object.keys(error.fieldErrors ?? {})).toEqual(['clientId']);
  });

  it('refuses redirect URIs that are relative, carry a fragment or use plain http off loopback', async () => {
    const error = await refusal(
      clients.create(client({ clientId: 'bad-uris', redirectUris: ['/callback', 'https://app.example/cb#x', 'http://app.example/cb'], postLogoutRedirectUris: ['ftp://app.example/'], initiateLoginUri: 'http://app.example/login' })),
    );
    expect(error.code).toBe('validation_failed');
    expect(error.fieldErrors?.redirectUris).toHaveLength(3);
    expect(Object.keys(error.fieldErrors ?? {}).sort()).toEqual(['initiateLoginUri', 'postLogoutRedirectUris', 'redirectUris']);
    expect(await clients.find('bad-uris')).toBeNull();
  });

  it('accepts https and loopback http URIs and keeps the given secret', async () => {
    const secret = 'a-client-secret-of-at-least-32-characters';
    const created = await clients.create(
      client({ clientId: 'loopback', clientSecret: secret, redirectUris: ['http://localhost:3001/cb', 'http://127.0.0.1:3001/cb', 'http://[::1]:3001/cb', 'https://app.example/cb'], initiateLoginUri: 'https://app.example/login' }),
    );
    expect(created).toMatchObject({ clientSecret: secret, initiateLoginUri: 'https://app.example/login', clientName: null });
    expect((await refusal(clients.create(client({ clientId: 'short-secret', clientSecret: 'short' })))).fieldErrors).toHaveProperty('clientSecret');
  });
});
