import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const PORTAL_API = 'urn:connect-iam:portal-api';

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

  function redeemRaw(code: string, codeVerifier: string, extra: Record<string, string> = {}) {
    return fetch(c.rp.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: codeVerifier, ...extra }),
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

  // A JWT access token (RFC 9068, the portal API) without a refresh token is a token request that saves nothing
  // through the adapter: the code's consume cannot ride on a save and is carried out before the answer leaves
  // (idp/settle-adapter-requests.ts). Single use must hold there too.
  it('keeps a code single-use when its access token is a JWT and no refresh token is issued', async () => {
    const auth = await startAuthorization(c.rp, REDIRECT, { resource: PORTAL_API, scope: 'openid organization' });
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const code = callback.searchParams.get('code')!;
    const responses = await Promise.all(Array.from({ length: 10 }, () => redeemRaw(code, auth.codeVerifier, { resource: PORTAL_API })));
    const answers = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> })));
    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.body.access_token!.split('.')).toHaveLength(3);
    expect(winners[0]!.body.refresh_token).toBeUndefined();
    for (const loser of answers.filter((a) => a.status !== 200)) expect(loser).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    const later = await redeemRaw(code, auth.codeVerifier, { resource: PORTAL_API });
    expect(later.status).toBe(400);
    expect(((await later.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('consumes nothing when the redemption is refused, so the right request still gets its tokens', async () => {
    const auth = await startAuthorization(c.rp, REDIRECT);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
    const code = callback.searchParams.get('code')!;
    // An unknown resource is refused after the code was found (invalid_target): no token was issued.
    const refused = await redeemRaw(code, auth.codeVerifier, { resource: 'urn:example:not-served' });
    expect(refused.status).toBe(400);
    const ok = await redeemRaw(code, auth.codeVerifier);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { access_token?: string }).access_token).toBeTruthy();
  });
});
