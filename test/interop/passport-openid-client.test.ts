/**
 * Interop (issue 11 §10): Passport with openid-client 6's strategy (`openid-client/passport`), in a real Express
 * app on a loopback port with express-session, signs a person in to connect-iam through code + PKCE, validates
 * the ID token, reads userinfo, refreshes and logs out through the `end_session_endpoint`. No setting is changed
 * from its defaults beyond the scope (`offline_access` for a refresh token).
 */
import express from 'express';
import session from 'express-session';
import * as client from 'openid-client';
import { Strategy, type VerifyFunction } from 'openid-client/passport';
import passport from 'passport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { UserAgent } from '../support/user-agent.js';
import { confirmSignOut, expectSignInPage, jsonOf, listen, signInThroughApp, type Person, type RunningApp } from './support.js';

/** What the app keeps in its session for a signed-in person. */
interface SessionUser {
  sub: string;
  claims: client.IDToken;
  idToken: string;
  accessToken: string;
  refreshToken?: string | undefined;
}

let t: TestIdp;
let app: RunningApp;
let person: Person & { id: string };

beforeAll(async () => {
  t = await startTestIdp();
  person = await t.createAccount({ userId: 'passport.user' });
  const rp = express();
  app = await listen(rp);
  const registered = await t.registerClient({ clientId: 'interop-passport', redirectUri: `${app.url}/callback`, postLogoutRedirectUri: `${app.url}/` });
  const config = registered.rp;

  const verify: VerifyFunction = (tokens, verified) => {
    const claims = tokens.claims()!;
    verified(null, { sub: claims.sub, claims, idToken: tokens.id_token!, accessToken: tokens.access_token, refreshToken: tokens.refresh_token } satisfies SessionUser);
  };
  const strategy = new Strategy({ config, scope: 'openid profile email offline_access', callbackURL: `${app.url}/callback` }, verify);
  const authenticator = new passport.Passport();
  authenticator.use(strategy);
  authenticator.serializeUser((user, done) => done(null, user));
  authenticator.deserializeUser((user: Express.User, done) => done(null, user));

  rp.use(session({ secret: 'interop-passport-session-secret', resave: false, saveUninitialized: false }));
  rp.use(authenticator.session());
  rp.get('/login', authenticator.authenticate(strategy.name));
  rp.get('/callback', authenticator.authenticate(strategy.name, { successRedirect: '/me', failureRedirect: '/failed' }));
  const user = (req: express.Request) => req.user as SessionUser | undefined;
  rp.get('/me', async (req, res) => {
    const u = user(req);
    if (!u) return void res.redirect('/login');
    res.json({ claims: u.claims, userinfo: await client.fetchUserInfo(config, u.accessToken, u.sub), accessToken: u.accessToken, refreshToken: u.refreshToken });
  });
  rp.get('/refresh', async (req, res) => {
    const u = user(req)!;
    const tokens = await client.refreshTokenGrant(config, u.refreshToken!);
    const refreshed: SessionUser = { ...u, accessToken: tokens.access_token, refreshToken: tokens.refresh_token ?? u.refreshToken };
    await new Promise<void>((resolve, reject) => req.login(refreshed, (error) => (error ? reject(error) : resolve())));
    res.json({ claims: tokens.claims(), accessToken: refreshed.accessToken, refreshToken: refreshed.refreshToken, userinfo: await client.fetchUserInfo(config, refreshed.accessToken, u.sub) });
  });
  rp.get('/logout', (req, res, next) => {
    const idToken = user(req)!.idToken;
    req.logout((error) => {
      if (error) return next(error);
      res.redirect(client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${app.url}/` }).href);
    });
  });
  rp.get('/', (req, res) => void res.json({ signedIn: Boolean(req.user) }));
});
afterAll(async () => {
  await app?.close();
  await t?.close();
});

describe('passport with openid-client’s strategy', () => {
  it('signs in through code + PKCE, validates the ID token, reads userinfo, refreshes with rotation and logs out at the IdP', async () => {
    const ua = new UserAgent();
    const toIdp = new URL((await ua.request(`${app.url}/login`)).headers.get('location')!);
    expect(toIdp.origin).toBe(new URL(t.issuer).origin);
    expect(Object.fromEntries(toIdp.searchParams)).toMatchObject({ response_type: 'code', code_challenge_method: 'S256', code_challenge: expect.any(String) });

    const me = jsonOf<{ claims: Record<string, unknown>; userinfo: Record<string, unknown>; accessToken: string; refreshToken?: string }>(await signInThroughApp(ua, `${app.url}/login`, person, t.smtp));
    expect(me.claims).toMatchObject({ iss: t.issuer, sub: person.id, aud: 'interop-passport', amr: expect.arrayContaining(['pwd', 'otp', 'mfa']) });
    expect(me.userinfo).toMatchObject({ sub: person.id, email: person.email, name: 'Test passport.user' });
    expect(me.refreshToken).toEqual(expect.any(String));

    const refreshed = jsonOf<{ claims: Record<string, unknown>; accessToken: string; refreshToken: string; userinfo: Record<string, unknown> }>(await ua.request(`${app.url}/refresh`));
    expect(refreshed.claims).toMatchObject({ sub: person.id, aud: 'interop-passport' });
    expect(refreshed.accessToken).not.toBe(me.accessToken);
    expect(refreshed.refreshToken).not.toBe(me.refreshToken);
    expect(refreshed.userinfo).toMatchObject({ sub: person.id });

    const logoutPage = await ua.follow(`${app.url}/logout`);
    expect(logoutPage.url.startsWith(`${t.issuer}/session/end`)).toBe(true);
    const back = await confirmSignOut(ua, logoutPage);
    expect(jsonOf(back)).toEqual({ signedIn: false });
    // The IdP session ended: a new authorization asks for the password again.
    expectSignInPage(await ua.follow(`${app.url}/login`));
  });
});
