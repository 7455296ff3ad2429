/**
 * Signing in with a passkey in Chromium, the authenticator being Chromium's virtual one (CDP WebAuthn domain):
 * as the second factor after the password, and without a password from the "Sign in with a passkey" button. The
 * ID token (redeemed by openid-client) carries the amr and acr of docs/tokens-and-claims.md.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchBrowser } from '../support/browser.js';
import type { TestIdp } from '../support/harness.js';
import { redeem } from '../support/sign-in.js';
import { authorize, nextCallback, pageWithAuthenticator, registerPasskeyOnAccountPage, simulatePresence, startLocalhostIdp, submitPassword, type TestPortal } from './browser-support.js';

describe('signing in with a passkey in Chromium with a virtual authenticator', () => {
  let browser: Browser;
  let t: TestIdp;
  let rp: TestPortal;

  beforeAll(async () => {
    ({ t, rp } = await startLocalhostIdp());
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const signedInEvents = async (accountId: string) => (await t.idp.identity.stores.audit.list({ accountId, limit: 50 })).filter((e) => e.type === 'account.signed_in');

  it('asks for the passkey after the password, and the ID token says pwd hwk user mfa with acr phr', async () => {
    const user = await t.createAccount({ userId: 'passkey.second' });
    const { context, page, cdp, authenticatorId } = await pageWithAuthenticator(browser);
    await registerPasskeyOnAccountPage(page, t, rp, user);
    await context.clearCookies();
    // Off, so that the sign-in page's autofill request stays pending and the password is used.
    await simulatePresence(cdp, authenticatorId, false);

    const auth = await authorize(page, rp);
    await submitPassword(page, user);
    await page.getByRole('button', { name: 'Use your passkey' }).waitFor();
    await simulatePresence(cdp, authenticatorId, true);
    await page.screenshot({ path: await artifactPath('passkeys-second-factor.png'), fullPage: true });
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    const tokens = await redeem(rp.rp, await nextCallback(page), auth);
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['pwd', 'hwk', 'user', 'mfa'], acr: 'phr' });

    const [stored] = await t.idp.identity.passkeys.list(user.id);
    expect(stored?.lastUsedAt).toBeInstanceOf(Date);
    expect(stored?.counter).toBeGreaterThan(0);
    expect((await signedInEvents(user.id)).at(0)?.data).toMatchObject({ factor: 'passkey', passkeyId: stored!.id, userVerified: true, passwordless: false });
    await context.close();
  });

  it('signs in without a password from "Sign in with a passkey": a discoverable credential, counted as both factors', async () => {
    const user = await t.createAccount({ userId: 'passkey.passwordless' });
    const { context, page } = await pageWithAuthenticator(browser);
    await registerPasskeyOnAccountPage(page, t, rp, user);
    await context.clearCookies();
    // A browser without passkey autofill, so that only the button can answer (the autofill test is below).
    await page.addInitScript(() => {
      (globalThis as unknown as { PublicKeyCredential: { isConditionalMediationAvailable(): Promise<boolean> } }).PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });

    const auth = await authorize(page, rp);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const tokens = await redeem(rp.rp, await nextCallback(page), auth);
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['hwk', 'user', 'mfa'], acr: 'phr' });
    expect((await signedInEvents(user.id)).at(0)?.data).toMatchObject({ factor: 'passkey', passwordless: true, userVerified: true });
    await context.close();
  });

  it('offers the passkey in the user ID field\'s autofill (conditional mediation): choosing it signs in without a password', async () => {
    const user = await t.createAccount({ userId: 'passkey.autofill' });
    const { context, page } = await pageWithAuthenticator(browser);
    await registerPasskeyOnAccountPage(page, t, rp, user);
    await context.clearCookies();

    // The virtual authenticator picks the one credential as soon as the page asks (a person picks it from the
    // autofill list of the field marked autocomplete="username webauthn"); nothing is clicked.
    const requests: string[] = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    const auth = await authorize(page, rp);
    const tokens = await redeem(rp.rp, await nextCallback(page), auth);
    expect(tokens.claims()).toMatchObject({ sub: user.id, amr: ['hwk', 'user', 'mfa'], acr: 'phr' });
    expect(requests.some((p) => p.endsWith('/passkey/options'))).toBe(true);
    await context.close();
  });
});
