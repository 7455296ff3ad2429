import { importJWK, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSeconds } from '../../lib/index.js';
import { createSigningKeyStore, type Database, type SigningKeyStore } from '../../storage/index.js';
import { signingKeys } from '../../storage/schema.js';
import { openTestDatabase } from '../support/database.js';

describe('token signing keys', () => {
  let database: Database;
  let keys: SigningKeyStore;
  const start = new Date('2030-01-01T00:00:00Z');

  beforeAll(async () => {
    database = await openTestDatabase();
    keys = createSigningKeyStore(database, Buffer.alloc(32, 9));
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('creates one RS256 key on first start, even when instances start together', async () => {
    await Promise.all([keys.ensureKeys(start), keys.ensureKeys(start), keys.ensureKeys(start)]);
    await keys.ensureKeys(start);
    const jwks = await keys.listJwks(start);
    expect(jwks).toHaveLength(1);
    expect(jwks[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String), d: expect.any(String) });
    const [row] = await database.db.select().from(signingKeys);
    expect(row?.privateJwk.startsWith('v2.')).toBe(true);
    expect(row?.privateJwk).not.toContain(jwks[0]!.d);
  });

  it('signs with the new key after rotation and keeps the old kid listed until retire_at, so old tokens verify', async () => {
    const [old] = await keys.listJwks(start);
    const oldToken = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'RS256', kid: old!.kid! }).sign(await importJWK(old!, 'RS256'));
    const rotatedAt = addSeconds(start, 60);
    const rotated = await keys.rotate(rotatedAt, 600);
    expect(rotated.retiring).toEqual([expect.objectContaining({ kid: old!.kid, retireAt: addSeconds(rotatedAt, 600) })]);

    const published = await keys.listJwks(addSeconds(rotatedAt, 599));
    expect(published.map((k) => k.kid)).toEqual([rotated.kid, old!.kid]);
    const verifier = published.find((k) => k.kid === old!.kid)!;
    const { n, e, kty } = verifier;
    await expect(jwtVerify(oldToken, await importJWK({ n, e, kty }, 'RS256'))).resolves.toMatchObject({ payload: { sub: 'a' } });

    expect((await keys.listJwks(addSeconds(rotatedAt, 600))).map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it('with signAfterSeconds, publishes a rotated key at once but signs with it (lists it first) only once it is that old, and keeps the old key that much longer', async () => {
    const rotatedAt = addSeconds(start, 3600);
    const rotated = await keys.rotate(rotatedAt, 600);
    expect(rotated.retiring).toHaveLength(1);
    const before = rotated.retiring[0];
    const options = { signAfterSeconds: 120 };
    expect((await keys.listJwks(addSeconds(rotatedAt, 119), options)).map((k) => k.kid)).toEqual([before!.kid, rotated.kid]);
    expect((await keys.listJwks(addSeconds(rotatedAt, 120), options)).map((k) => k.kid)).toEqual([rotated.kid, before!.kid]);
    // Tokens the old key signed in those 120 s live 120 s past its retire_at; so does its publication.
    expect((await keys.listJwks(addSeconds(rotatedAt, 600 + 119), options)).map((k) => k.kid)).toEqual([rotated.kid, before!.kid]);
    expect((await keys.listJwks(addSeconds(rotatedAt, 600 + 120), options)).map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it('with signAfterSeconds, signs at once with the only key (first start)', async () => {
    const fresh = await openTestDatabase();
    try {
      const store = createSigningKeyStore(fresh, Buffer.alloc(32, 9));
      await store.ensureKeys(start);
      expect(await store.listJwks(start, { signAfterSeconds: 120 })).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });
});
