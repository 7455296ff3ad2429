import { describe, expect, it } from 'vitest';
import { newTotpSecret, verifyTotp } from '../../identity/index.js';
import { oathtool } from '../support/authenticator.js';

/**
 * The RFC 6238 check on its own, against codes from an independent implementation (oathtool): the window is
 * exactly ±1 step, and the replay floor never turns a refusal into an error.
 */
describe('verifyTotp (RFC 6238 §4, §5.2) against oathtool', () => {
  const now = new Date(Math.floor(Date.now() / 30_000) * 30_000 + 10_000);
  const step = Math.floor(now.getTime() / 30_000);
  const at = (steps: number) => new Date(now.getTime() + steps * 30_000);

  it('accepts the previous, current and next step and refuses two steps away, with no replay floor', async () => {
    const secret = newTotpSecret();
    for (const offset of [-1, 0, 1]) expect(await verifyTotp(secret, oathtool(secret, at(offset)), now, null)).toBe(step + offset);
    for (const offset of [-3, -2, 2, 3]) {
      const code = oathtool(secret, at(offset));
      // A code of a distant step can coincide with one inside the window (10^-6 per step); only then is it accepted.
      const collides = [-1, 0, 1].some((o) => oathtool(secret, at(o)) === code);
      expect(await verifyTotp(secret, code, now, null)).toBe(collides ? expect.any(Number) : null);
    }
  });

  it('accepts only steps after the replay floor', async () => {
    const secret = newTotpSecret();
    expect(await verifyTotp(secret, oathtool(secret, now), now, step)).toBeNull();
    expect(await verifyTotp(secret, oathtool(secret, at(-1)), now, step - 1)).toBeNull();
    expect(await verifyTotp(secret, oathtool(secret, at(1)), now, step)).toBe(step + 1);
  });

  it('refuses, without throwing, when the floor is at or past the window (a clock ran ahead or stepped back)', async () => {
    const secret = newTotpSecret();
    for (const floor of [step + 1, step + 2, step + 100]) {
      await expect(verifyTotp(secret, oathtool(secret, at(1)), now, floor)).resolves.toBeNull();
    }
  });
});
