/**
 * Database round trips of the hot protocol paths on the real stack (issue 10 §2's targets: at most 4 for a
 * refresh-token grant, 2 for userinfo): measured, and held here, a refresh-token grant takes 2 (the refresh token
 * with its grant, session and account; the old token consumed with the rotated one and the access token saved,
 * one statement), a userinfo call 1 (the access token with its grant and account), JWKS and discovery none. Every statement is counted where the driver
 * sends it — `pg`'s `Client#query` (one Parse/Bind/Execute/Sync exchange each) on a PostgreSQL server, PGlite's
 * `query`/`exec` on the embedded database — when it is sent from inside an oidc-provider request (its
 * `Provider.ctx`), so background work (the readiness probe, the mail outbox poll) is left out and a regression
 * (another read per request, a client read again, a statement split in two) fails here.
 */
import { PGlite } from '@electric-sql/pglite';
import * as client from 'openid-client';
// @ts-ignore -- oidc-provider ships no type declarations; only `Provider.ctx` is used.
import { Provider } from 'oidc-provider';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, signInToCallback, startAuthorization } from '../support/sign-in.js';
import { UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7861/cb';

/**
 * Background statements that may fall inside a measured request: the readiness probe's schema check, the sweep,
 * the mail outbox poll and the signing-key reload (the last two are set to hourly here).
 */
const BACKGROUND = /__drizzle_migrations|mail_outbox|signing_keys|delete from "(oidc_models|oidc_revoked_grants|email_otp_challenges|password_reset_tokens|rate_limiter_points|webauthn_challenges)"/i;

/** Statements sent by oidc-provider requests while `run` ran, by their SQL text. */
async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const textOf = (query: unknown) => (typeof query === 'string' ? query : String((query as { text?: string })?.text ?? ''));
  const restore: Array<() => void> = [];
  const wrap = (proto: Record<string, unknown>, method: string) => {
    const original = proto[method] as (...args: unknown[]) => unknown;
    proto[method] = function (this: unknown, ...args: unknown[]) {
      // Inside an oidc-provider request, or the token endpoint's held-back writes carried out by the middleware
      // around it (idp/settle-adapter-requests.ts, outside oidc-provider's request context): everything but
      // background statements.
      const text = textOf(args[0]);
      if ((Provider as { ctx?: unknown }).ctx !== undefined || !BACKGROUND.test(text)) sent.push(text);
      return original.apply(this, args);
    };
    restore.push(() => (proto[method] = original));
  };
  wrap(pg.Client.prototype as unknown as Record<string, unknown>, 'query');
  wrap(PGlite.prototype as unknown as Record<string, unknown>, 'query');
  wrap(PGlite.prototype as unknown as Record<string, unknown>, 'exec');
  try {
    await run();
  } finally {
    for (const undo of restore) undo();
  }
  return sent;
}

let t: TestIdp;
let rp: client.Configuration;
let refreshToken: string;
let accessToken: string;
let sub: string;

beforeAll(async () => {
  t = await startTestIdp({ MAIL_POLL_SECONDS: '3600', SIGNING_KEY_RELOAD_SECONDS: '3600', LOG_LEVEL: 'warn' });
  ({ rp } = await t.registerClient({ clientId: 'round-trips', redirectUri: REDIRECT }));
  const user = await t.createAccount({ userId: 'round.trips' });
  const auth = await startAuthorization(rp, REDIRECT, { scope: 'openid profile email organization offline_access' });
  const callback = await signInToCallback({ ua: new UserAgent(), auth, login: user.userId, password: user.password, email: user.email, smtp: t.smtp });
  const tokens = await redeem(rp, callback, auth);
  refreshToken = tokens.refresh_token!;
  accessToken = tokens.access_token;
  sub = tokens.claims()!.sub;
  // Warm-up: the first refresh and userinfo call of a process may load what later ones reuse.
  const warm = await client.refreshTokenGrant(rp, refreshToken);
  refreshToken = warm.refresh_token!;
  accessToken = warm.access_token;
  await client.fetchUserInfo(rp, accessToken, sub);
});
afterAll(() => t?.close());

describe('database round trips of protocol requests', () => {
  it('a refresh-token grant takes at most 2, and the rotated token still works', async () => {
    let refreshed!: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    const sent = await statementsOf(async () => (refreshed = await client.refreshTokenGrant(rp, refreshToken)));

    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.claims()?.sub).toBe(sub);
    expect(sent.length, sent.join('\n')).toBeLessThanOrEqual(2);
    refreshToken = refreshed.refresh_token!;
    accessToken = refreshed.access_token;
  });

  it('a userinfo call takes at most 1', async () => {
    let claims!: client.UserInfoResponse;
    const sent = await statementsOf(async () => (claims = await client.fetchUserInfo(rp, accessToken, sub)));

    expect(claims.sub).toBe(sub);
    expect(claims.email).toBe('round.trips@example.com');
    expect(sent.length, sent.join('\n')).toBeLessThanOrEqual(1);
  });

  it('JWKS and discovery take none', async () => {
    const sent = await statementsOf(async () => {
      for (const path of ['/jwks', '/.well-known/openid-configuration']) expect((await fetch(new URL(path, `${t.issuer}/`))).status).toBe(200);
    });
    expect(sent).toEqual([]);
  });
});
