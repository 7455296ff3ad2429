/**
 * In Chromium with virtual authenticators: a cloned passkey (a second authenticator holding the same private key
 * with a lower signature counter) is refused, and `acr_values=phr` (openid-client) sends a session that signed in
 * without a passkey through the sign-in pages again, ending with the passkey, after which it passes silently.
 * The wrong-origin assertion is refused in authentication-verification.test.ts (a browser never sends one).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../support/browser.js';
import type { TestIdp } from '../support/harness.js';
import { redeem } from '../support/sign-in.js';
import { PLATFORM_AUTHENTICATOR, authorize, nextCallback, pageWithAuthenticator, registerPasskeyOnAccountPage, startLocalhostIdp, submitPassword, type TestPortal } from './browser-support.js';

/** A browser without passkey autofill: only the buttons start a ceremony, so nothing answers by itself. */
const withoutAutofill = (page: Page) => page.addInitScript(() => {
  (globalThis as unknown as { PublicKeyCredential: { isConditionalMediationAvailable(): Promise<boolean> } }).PublicKeyCredential.isConditionalMediationAvailable = async () => false;
});

describe('passkey refusals and acr_values=phr in Chromium', () => {
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

  it('refuses a cloned authenticator whose signature counter did not increase, with passkey.clone_refused, and removes the passkey', async () => {
    const user = await t.createAccount({ userId: 'passkey.cloned' });
    const { context, page, cdp, authenticatorId } = await pageWithAuthenticator(browser);
    await registerPasskeyOnAccountPage(page, t, rp, user);
    await context.clearCookies();
    await withoutAutofill(page);

    // The original signs in once: its counter moves on.
    await authorize(page, rp);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await nextCallback(page);
    const [used] = await t.idp.identity.passkeys.list(user.id);
    expect(used!.counter).toBeGreaterThan(0);

    // A copy of the key on a second authenticator, its counter behind the original's; the original is gone.
    const { credentials: [original] } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    const { authenticatorId: cloneId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: PLATFORM_AUTHENTICATOR });
    await cdp.send('WebAuthn.addCredential', { authenticatorId: cloneId, credential: { ...original!, signCount: used!.counter - 1 } });
    await context.clearCookies();

    await authorize(page, rp);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expect.poll(() => page.locator('main').innerText()).toContain('That passkey could not be used to sign in here.');
    expect(page.url()).not.toContain(rp.redirect);
    const clones = (await t.idp.identity.stores.audit.list({ accountId: user.id, limit: 50 })).filter((e) => e.type === 'passkey.clone_refused');
    expect(clones.map((e) => e.data)).toEqual([expect.objectContaining({ factor: 'passkey', passkeyId: used!.id, credentialId: used!.credentialId, storedCounter: used!.counter, presentedCounter: used!.counter, removed: true })]);
    // The cloned passkey is removed: neither authenticator can sign in with it again.
    expect(await t.idp.identity.passkeys.list(user.id)).toEqual([]);
    await context.close();
  });

  it('sends a session without a passkey through sign-in again for acr_values=phr, ending with the passkey; then passes silently', async () => {
    const user = await t.createAccount({ userId: 'passkey.acr' });
    const { context, page } = await pageWithAuthenticator(browser);
    await registerPasskeyOnAccountPage(page, t, rp, user);
    await withoutAutofill(page);

    // The session signed in with password and emailed code: no acr. A plain request passes silently.
    const plain = await authorize(page, rp);
    expect((await redeem(rp.rp, await nextCallback(page), plain)).claims()?.acr).toBeUndefined();

    const strong = await authorize(page, rp, { acr_values: 'phr' });
    await submitPassword(page, user);
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    expect((await redeem(rp.rp, await nextCallback(page), strong)).claims()).toMatchObject({ sub: user.id, acr: 'phr', amr: ['pwd', 'hwk', 'user', 'mfa'] });

    const again = await authorize(page, rp, { acr_values: 'phr', prompt: 'none' });
    expect((await redeem(rp.rp, await nextCallback(page), again)).claims()).toMatchObject({ sub: user.id, acr: 'phr' });
    await context.close();
  });

  it('keeps the sign-in page working for a person without a passkey (autofill offers none, the button finds none, the password works)', async () => {
    const user = await t.createAccount({ userId: 'passkey.none' });
    const { context, page } = await pageWithAuthenticator(browser);
    await authorize(page, rp);
    // The user ID field offers passkeys in its autofill (conditional mediation, WebAuthn Level 3 §5.1.4.1).
    expect(await page.getByLabel('User ID or email').getAttribute('autocomplete')).toBe('username webauthn');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    // The authenticator holds no credential for this site: the browser's request ends without an answer.
    await expect.poll(() => page.locator('#passkey-status').innerText(), { timeout: 15_000 }).toContain('The passkey was not used');
    await submitPassword(page, user);
    await page.getByLabel('One-time code').waitFor();
    await context.close();
  });
});
