import { describe, expect, it } from 'vitest';
import { loggedPath } from '../../idp/logged-path.js';

describe('paths written to the log', () => {
  it('never carry a password link token', () => {
    const token = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';
    expect(loggedPath(`/password/reset/${token}`)).toBe('/password/reset/[token]');
    expect(loggedPath(`/password/set/${token}`)).toBe('/password/set/[token]');
    expect(loggedPath(`/password/reset/${token}`)).not.toContain(token);
  });

  it('keep every other path as it is', () => {
    for (const path of ['/password/forgot', '/interaction/abc123/password', '/account', '/']) expect(loggedPath(path)).toBe(path);
  });
});
