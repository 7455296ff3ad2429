/**
 * Interop (issue 11 §10): express-openid-connect, as a real Express app on a loopback port, signs a person in to
 * connect-iam through code + PKCE, validates the ID token, reads userinfo, refreshes and logs out at the IdP.
 *
 * It needs two settings changed from its defaults (its other defaults are left as they are):
 * - `authorizationParams.response_type: 'code'` — its default is `id_token` (implicit, `form_post`), which
 *   connect-iam does not offer (`response_types_supported` is `["code"]`). With `code` it sends PKCE S256.
 * - `idpLogout: true` — its default `/logout` ends only the app's own session, leaving the IdP session alive, so
 *   the next sign-in would not ask for the password. With it, `/logout` goes to the `end_session_endpoint`.
 * A refresh token further needs `offline_access` in `authorizationParams.scope` (its default scope has none).
 */
import express from 'express';
import { auth, requiresAuth } from 'express-openid-connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { UserAgent } from '../support/user-agent.js';
import { confirmSignOut, expectSignInPage, jsonOf, listen, signInThroughApp, type Person, type RunningApp } from './support.js';

let t: TestIdp;
let app: RunningApp;
let person: Person & { id: string };

/** Starts an express-openid-connect app registered as `clientId`, with `idpLogout` as given. */
async function startApp(clientId: string, idpLogout: boolean): Promise<{ rp: express.Express; running: RunningApp }> {
  const rp = express();
  const running = await listen(rp);
  const registered = await t.registerClient({ clientId, redirectUri: `${running.url}/callback`, postLogoutRedirectUri: running.url });
  rp.use(
    auth({
      issuerBaseURL: t.issuer,
      baseURL: running.url,
      clientID: registered.clientId,
      clientSecret: registered.clientSecret,
      secret: 'interop-express-openid-connect-cookie-secret',
      authRequired: false,
      idpLogout,
      authorizationParams: { response_type: 'code', scope: 'openid profile email offline_access' },
    }),
  );
  return { rp, running };
}

beforeAll(async () => {
  t = await startTestIdp();
  person = await t.createAccount({ userId: 'eoc.user' });
  const { rp, running } = await startApp('interop-eoc', true);
  app = running;
  rp.get('/me', requiresAuth(), async (req, res) => {
    res.json({ claims: req.oidc.idTokenClaims, userinfo: await req.oidc.fetchUserInfo(), refreshToken: req.oidc.refreshToken, accessToken: req.oidc.accessToken?.access_token });
  });
  rp.get('/refresh', requiresAuth(), async (req, res) => {
    const refreshed = await req.oidc.accessToken!.refresh();
    res.json({ accessToken: refreshed.access_token, refreshToken: req.oidc.refreshToken, userinfo: await req.oidc.fetchUserInfo() });
  });
});
afterAll(async () => {
  await app?.close();
  await t?.close();
});

describe('express-openid-connect', () => {
  it('signs in through code + PKCE, validates the ID token, reads userinfo, refreshes with rotation and logs out at the IdP', async () => {
    const ua = new UserAgent();
    const start = new URL(`${app.url}/login`);
    // The authorization request it sends: code, PKCE S256, nonce.
    const toIdp = new URL((await ua.request(start.href)).headers.get('location')!);
    expect(toIdp.origin).toBe(new URL(t.issuer).origin);
    expect(Object.fromEntries(toIdp.searchParams)).toMatchObject({ response_type: 'code', code_challenge_method: 'S256', code_challenge: expect.any(String), nonce: expect.any(String) });

    await signInThroughApp(ua, `${app.url}/login?returnTo=/me`, person, t.smtp);
    const me = jsonOf<{ claims: Record<string, unknown>; userinfo: Record<string, unknown>; refreshToken?: string; accessToken: string }>(await ua.request(`${app.url}/me`));
    expect(me.claims).toMatchObject({ iss: t.issuer, sub: person.id, aud: 'interop-eoc', amr: expect.arrayContaining(['pwd', 'otp', 'mfa']) });
    expect(me.userinfo).toMatchObject({ sub: person.id, email: person.email, name: 'Test eoc.user' });
    expect(me.refreshToken).toEqual(expect.any(String));

    const refreshed = jsonOf<{ accessToken: string; refreshToken: string; userinfo: Record<string, unknown> }>(await ua.request(`${app.url}/refresh`));
    expect(refreshed.accessToken).not.toBe(me.accessToken);
    expect(refreshed.refreshToken).not.toBe(me.refreshToken);
    expect(refreshed.userinfo).toMatchObject({ sub: person.id });

    // /logout (idpLogout) goes to the end_session_endpoint with the ID token as hint and comes back to the app.
    const logoutPage = await ua.follow(`${app.url}/logout`);
    expect(logoutPage.url.startsWith(`${t.issuer}/session/end`)).toBe(true);
    const back = await confirmSignOut(ua, logoutPage);
    expect(back.url).toBe(`${app.url}/`);
    expect((await ua.request(`${app.url}/me`)).status).toBe(302);
    // The IdP session ended: a new authorization asks for the password again.
    expectSignInPage(await ua.follow(`${app.url}/login`));
  });

  it('without idpLogout (its default), /logout ends only the app session: the IdP session stays and signs the person in again without a password', async () => {
    const local = await startApp('interop-eoc-local', false);
    try {
      const ua = new UserAgent();
      await signInThroughApp(ua, `${local.running.url}/login`, person, t.smtp);
      const afterLogout = await ua.follow(`${local.running.url}/logout`);
      expect(afterLogout.url.startsWith(local.running.url)).toBe(true);
      const again = await ua.follow(`${local.running.url}/login`);
      expect(again.url.startsWith(local.running.url)).toBe(true);
      expect(again.html).not.toMatch(/<label[^>]*>\s*Password\s*<\/label>/);
    } finally {
      await local.running.close();
    }
  });
});
