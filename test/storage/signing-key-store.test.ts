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
});
