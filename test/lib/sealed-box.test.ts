import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LegacySealedValueError, open, openWithAnyKey, seal } from '../../lib/index.js';

describe('sealed values (AES-256-GCM with a context as additional authenticated data)', () => {
  const key = randomBytes(32);

  it('opens a value only with the key and the context it was sealed for', () => {
    const sealed = seal('JBSWY3DPEHPK3PXP', key, 'authenticator_registrations:r1:a1');
    expect(sealed.startsWith('v2.')).toBe(true);
    expect(open(sealed, key, 'authenticator_registrations:r1:a1')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => open(sealed, key, 'authenticator_registrations:r1:a2')).toThrow();
    expect(() => open(sealed, key)).toThrow(/context/);
    expect(() => open(sealed, randomBytes(32), 'authenticator_registrations:r1:a1')).toThrow();
  });

  it('refuses an altered value', () => {
    const [version, iv, tag, ciphertext] = seal('secret', key, 'c').split('.');
    const flipped = Buffer.from(ciphertext!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => open([version, iv, tag, flipped.toString('base64url')].join('.'), key, 'c')).toThrow();
  });

  it('still opens values sealed without a context (v1), whatever context is asked for', () => {
    const legacy = seal('old secret', key);
    expect(legacy.startsWith('v1.')).toBe(true);
    expect(open(legacy, key, 'any context')).toBe('old secret');
  });

  it('opens with a previous key during a rotation, with the same context rule', () => {
    const previous = randomBytes(32);
    const sealed = seal('rotating', previous, 'c1');
    expect(openWithAnyKey(sealed, { current: key, previous: [previous] }, 'c1')).toBe('rotating');
    expect(() => openWithAnyKey(sealed, { current: key, previous: [previous] }, 'c2')).toThrow(/could not be decrypted/);
  });

  it('refuses v1 values once legacy values are not allowed (ALLOW_LEGACY_SEALED=false), and still opens v2 ones', () => {
    const legacy = seal('old secret', key);
    expect(openWithAnyKey(legacy, { current: key }, 'c')).toBe('old secret');
    expect(() => openWithAnyKey(legacy, { current: key, allowLegacy: false }, 'c')).toThrow(LegacySealedValueError);
    expect(openWithAnyKey(seal('new secret', key, 'c'), { current: key, allowLegacy: false }, 'c')).toBe('new secret');
  });
});
