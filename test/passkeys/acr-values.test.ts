/**
 * `acr_values=phr` over HTTP with openid-client (no browser): discovery lists `phr`; a session signed in without a
 * passkey is shown the sign-in pages again when a client asks for phr, and `prompt=none` gets `login_required`;
 * without acr_values the same session signs in silently. The passkey half (a phr session passes silently) is
 * acr-values-browser.test.ts.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { freePort } from '../support/ports.js';
import { redeem, signInToCallback, startAuthorization, submitPassword } from '../support/sign-in.js';
import { textOf, UserAgent } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7492/cb';

describe('acr_values=phr asks a session without a passkey to sign in again', () => {
  let t: TestIdp;
  let rp: client.Configuration;

  beforeAll(async () => {
    const port = await freePort();
    t = await startTestIdp({ PORT: String(port), ISSUER: `http://localhost:${port}` });
    rp = (await t.registerClient({ clientId: 'acr-portal', redirectUri: REDIRECT })).rp;
  });
  afterAll(() => t?.close());

  it('lists phr in discovery', () => {
    expect(rp.serverMetadata().acr_values_supported).toEqual(['phr']);
  });

  it('shows the sign-in page again, answers prompt=none with login_required, and passes silently without acr_values', async () => {
    const user = await t.createAccount({ userId: 'acr.codes' });
    const ua = new UserAgent();
    const first = await startAuthorization(rp, REDIRECT);
    const tokens = await redeem(rp, await signInToCallback({ ua, auth: first, login: user.userId, password: user.password, email: user.email, smtp: t.smtp }), first);
    expect(tokens.claims()?.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(tokens.claims()?.acr).toBeUndefined();

    const stopAt = (next: string) => next.startsWith(REDIRECT);
    const phr = await ua.follow((await startAuthorization(rp, REDIRECT, { acr_values: 'phr' })).url.toString(), {}, stopAt);
    expect(phr.redirectedTo).toBeUndefined();
    expect(textOf(phr.html)).toContain('User ID or email');

    const none = await ua.follow((await startAuthorization(rp, REDIRECT, { acr_values: 'phr', prompt: 'none' })).url.toString(), {}, stopAt);
    expect(new URL(none.redirectedTo!).searchParams.get('error')).toBe('login_required');

    const silent = await ua.follow((await startAuthorization(rp, REDIRECT)).url.toString(), {}, stopAt);
    expect(new URL(silent.redirectedTo!).searchParams.get('code')).toBeTruthy();
  });

  it('does not offer an emailed code or the app when acr_values asks for phr: an account without a passkey is told to register one', async () => {
    const user = await t.createAccount({ userId: 'acr.nopasskey' });
    const ua = new UserAgent();
    const since = t.smtp.messages.length;
    const signInPage = await ua.follow((await startAuthorization(rp, REDIRECT, { acr_values: 'phr' })).url.toString(), {}, (next) => next.startsWith(REDIRECT));
    const answer = await submitPassword(ua, signInPage, user.userId, user.password);
    expect(answer.status).toBe(403);
    expect(textOf(answer.html)).toContain('This application asks for a sign-in with a passkey. Register one on your account page first');
    expect(textOf(answer.html)).not.toContain('One-time code');
    // No code was emailed for a factor that could not satisfy the request.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(t.smtp.messages.slice(since).filter((m) => m.to.includes(user.email))).toEqual([]);
  });
});
