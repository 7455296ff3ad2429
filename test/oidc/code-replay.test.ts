import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7101/auth/callback';

describe('authorization code replay (design/security.md §1)', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;
  let user: Awaited<ReturnType<TestIdp['createAccount']>>;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await t.registerClient({ clientId: 'replay-client', redirectUri: REDIRECT });
    user = await t.createAccount({ userId: 'replay.user' });
  });
  afterAll(() => t?.close());

  function redeemRaw(code: string, codeVerifier: string) {
    return fetch(c.rp.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: codeVerifier }),
    });
  }

  it('answers exactly one of 20 concurrent redemptions, refuses the rest with invalid_grant and revokes the winner’s token', async () => {
    const auth = await startAuthorization(c.rp, REDIRECT);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const code = callback.searchParams.get('code')!;
    const responses = await Promise.all(Array.from({ length: 20 }, () => redeemRaw(code, auth.codeVerifier)));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Record<string, string>>));
    const winners = responses.map((r, i) => ({ status: r.status, body: bodies[i]! })).filter((r) => r.status === 200);
    const losers = responses.map((r, i) => ({ status: r.status, body: bodies[i]! })).filter((r) => r.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const loser of losers) {
      expect(loser.status).toBe(400);
      expect(loser.body.error).toBe('invalid_grant');
    }
    const userinfo = await fetch(c.rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${winners[0]!.body.access_token}` } });
    expect(userinfo.status).toBe(401);
  });

  it('refuses a second, sequential redemption and revokes the tokens of the first', async () => {
    const auth = await startAuthorization(c.rp, REDIRECT);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const code = callback.searchParams.get('code')!;
    const first = await redeemRaw(code, auth.codeVerifier);
    expect(first.status).toBe(200);
    const { access_token } = (await first.json()) as { access_token: string };
    const okUserinfo = await fetch(c.rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${access_token}` } });
    expect(okUserinfo.status).toBe(200);
    const second = await redeemRaw(code, auth.codeVerifier);
    expect(second.status).toBe(400);
    expect(((await second.json()) as { error: string }).error).toBe('invalid_grant');
    const revoked = await fetch(c.rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${access_token}` } });
    expect(revoked.status).toBe(401);
  });
});
