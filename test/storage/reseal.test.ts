/**
 * Issue 8, point 14: `v1` sealed values (no associated data, so not bound to their row) are rewritten as `v2` by
 * `secrets reseal`, and refused once `ALLOW_LEGACY_SEALED=false`. Real stores on the test database; the v1 values
 * are written the way earlier versions wrote them.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LegacySealedValueError, loadConfig, seal } from '../../lib/index.js';
import { sealingKeysOf } from '../../server/wiring.js';
import { createClientStore, createSigningKeyStore, resealSecrets, type Database } from '../../storage/index.js';
import { oidcClients, signingKeys } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';

const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');
const legacyRefused = sealingKeysOf(loadConfig({ ENCRYPTION_KEY, ALLOW_LEGACY_SEALED: 'false' }));
const legacyAllowed = sealingKeysOf(loadConfig({ ENCRYPTION_KEY }));

describe('legacy (v1) sealed values', () => {
  let database: Database;
  let clientSecret: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    // A client and a signing key as today's stores write them, then their values rewritten as v1 (no context).
    clientSecret = (await createClientStore(database, legacyAllowed).create({ clientId: 'legacy-client', redirectUris: ['https://portal.example.com/cb'], postLogoutRedirectUris: [], firstParty: true })).clientSecret!;
    await database.db.update(oidcClients).set({ clientSecret: seal(clientSecret, legacyAllowed.current) }).where(eq(oidcClients.clientId, 'legacy-client'));
    const keys = createSigningKeyStore(database, legacyAllowed);
    await keys.ensureKeys(new Date());
    const [jwk] = await keys.listJwks(new Date());
    await database.db.update(signingKeys).set({ privateJwk: seal(JSON.stringify(jwk), legacyAllowed.current) }).where(eq(signingKeys.kid, jwk!.kid!));
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('still open by default (ALLOW_LEGACY_SEALED=true), and are refused with ALLOW_LEGACY_SEALED=false', async () => {
    expect(legacyAllowed.allowLegacy).toBe(true);
    expect((await createClientStore(database, legacyAllowed).find('legacy-client'))?.clientSecret).toBe(clientSecret);
    expect(await createSigningKeyStore(database, legacyAllowed).listJwks(new Date())).toHaveLength(1);
    await expect(createClientStore(database, legacyRefused).find('legacy-client')).rejects.toBeInstanceOf(LegacySealedValueError);
    await expect(createSigningKeyStore(database, legacyRefused).listJwks(new Date())).rejects.toThrow(/ALLOW_LEGACY_SEALED=false/);
  });

  it('secrets reseal rewrites them as v2 bound to their row, even with ALLOW_LEGACY_SEALED=false; then they open', async () => {
    expect(await resealSecrets(database.db, legacyRefused)).toMatchObject({ clientSecrets: 1, signingKeys: 1 });
    const [client] = await database.db.select({ value: oidcClients.clientSecret }).from(oidcClients);
    const [key] = await database.db.select({ value: signingKeys.privateJwk }).from(signingKeys);
    expect([client?.value?.slice(0, 3), key?.value.slice(0, 3)]).toEqual(['v2.', 'v2.']);
    expect((await createClientStore(database, legacyRefused).find('legacy-client'))?.clientSecret).toBe(clientSecret);
    expect(await createSigningKeyStore(database, legacyRefused).listJwks(new Date())).toHaveLength(1);
  });
});
