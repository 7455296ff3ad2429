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

  it('rotated with no publish-ahead (keys rotate --now), signs with the new key at once and keeps the old kid listed until retire_at, so old tokens verify', async () => {
    const [old] = await keys.listJwks(start);
    const oldToken = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'RS256', kid: old!.kid! }).sign(await importJWK(old!, 'RS256'));
    const rotatedAt = addSeconds(start, 60);
    const rotated = await keys.rotate(rotatedAt, { retainSeconds: 600, publishAheadSeconds: 0 });
    expect(rotated.signFrom).toEqual(rotatedAt);
    expect(rotated.retiring).toEqual([expect.objectContaining({ kid: old!.kid, retireAt: addSeconds(rotatedAt, 600) })]);

    expect((await keys.listJwks(rotatedAt)).map((k) => k.kid)).toEqual([rotated.kid, old!.kid]);
    const published = await keys.listJwks(addSeconds(rotatedAt, 599));
    expect(published.map((k) => k.kid)).toEqual([rotated.kid, old!.kid]);
    const verifier = published.find((k) => k.kid === old!.kid)!;
    const { n, e, kty } = verifier;
    await expect(jwtVerify(oldToken, await importJWK({ n, e, kty }, 'RS256'))).resolves.toMatchObject({ payload: { sub: 'a' } });

    expect((await keys.listJwks(addSeconds(rotatedAt, 600))).map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it('with a publish-ahead delay, publishes a rotated key at once but signs with it (lists it first) only from its sign_from, and retires the old key retainSeconds after that', async () => {
    const rotatedAt = addSeconds(start, 3600);
    const rotated = await keys.rotate(rotatedAt, { retainSeconds: 600, publishAheadSeconds: 300 });
    expect(rotated.signFrom).toEqual(addSeconds(rotatedAt, 300));
    expect(rotated.retiring).toHaveLength(1);
    const before = rotated.retiring[0]!;
    // The old key signed until sign_from, so its tokens live retainSeconds past that.
    expect(before.retireAt).toEqual(addSeconds(rotatedAt, 300 + 600));
    expect((await keys.listJwks(rotatedAt)).map((k) => k.kid)).toEqual([before.kid, rotated.kid]);
    expect((await keys.listJwks(addSeconds(rotatedAt, 299))).map((k) => k.kid)).toEqual([before.kid, rotated.kid]);
    expect((await keys.listJwks(addSeconds(rotatedAt, 300))).map((k) => k.kid)).toEqual([rotated.kid, before.kid]);
    // An instance that had not reloaded yet may sign with the old key a little longer: retireGraceSeconds covers it.
    const options = { retireGraceSeconds: 120 };
    expect((await keys.listJwks(addSeconds(rotatedAt, 900 + 119), options)).map((k) => k.kid)).toEqual([rotated.kid, before.kid]);
    expect((await keys.listJwks(addSeconds(rotatedAt, 900 + 120), options)).map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it('keys rotate --now while a key is published ahead signs with the newest key at once; the waiting key stays published but never signs', async () => {
    const rotatedAt = addSeconds(start, 7200);
    const [signing] = await keys.listJwks(rotatedAt);
    const waiting = await keys.rotate(rotatedAt, { retainSeconds: 600, publishAheadSeconds: 3600 });
    const emergencyAt = addSeconds(rotatedAt, 10);
    const emergency = await keys.rotate(emergencyAt, { retainSeconds: 600, publishAheadSeconds: 0 });
    expect(emergency.retiring.map((k) => k.kid)).toEqual([waiting.kid]);
    expect((await keys.listJwks(emergencyAt)).map((k) => k.kid)).toEqual([emergency.kid, waiting.kid, signing!.kid]);
    expect((await keys.listJwks(addSeconds(rotatedAt, 3600))).map((k) => k.kid)[0]).toBe(emergency.kid);
  });

  it('signs at once with the only key (first start)', async () => {
    const fresh = await openTestDatabase();
    try {
      const store = createSigningKeyStore(fresh, Buffer.alloc(32, 9));
      await store.ensureKeys(start);
      const [row] = await fresh.db.select().from(signingKeys);
      expect(row?.signFrom).toEqual(start);
      expect(await store.listJwks(start, { retireGraceSeconds: 120 })).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });
});
