import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oathtool } from '../support/authenticator.js';
import { artifactPath, launchBrowser, signInWithEmailCode } from '../support/browser.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization } from '../support/sign-in.js';

const REDIRECT = 'http://localhost:7413/cb';

describe('registering an authenticator app in a real browser', () => {
  let t: TestIdp;
  let browser: Browser;
  let rp: Awaited<ReturnType<TestIdp['registerClient']>>['rp'];

  beforeAll(async () => {
    t = await startTestIdp({ AUTHENTICATOR_OFFER_AT_SIGN_IN: 'true' });
    rp = (await t.registerClient({ clientId: 'browser-app', redirectUri: REDIRECT })).rp;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A phone-sized page whose requests to the client's redirect URI are answered locally. */
  async function phonePage() {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await context.route('http://localhost:7413/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>client</h1>' }));
    return context.newPage();
  }

  it('registers an app from the sign-in offer by reading the key on the page, then signs in with the app', async () => {
    const user = await t.createAccount({ userId: 'browser.app' });
    const page = await phonePage();
    await page.goto((await startAuthorization(rp, REDIRECT)).url.toString());
    await signInWithEmailCode(page, t.smtp, user);
    await page.getByRole('button', { name: 'Register device' }).click();

    await expect.poll(() => page.locator('img.qr').evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
    await page.screenshot({ path: await artifactPath('authenticator-registration-phone.png'), fullPage: true });
    const shownKey = (await page.locator('#authenticator-secret').innerText()).replace(/\s+/g, '');
    const mobileLink = await page.getByRole('link', { name: /On a mobile device/ }).getAttribute('href');
    expect(mobileLink).toMatch(new RegExp(`^otpauth://totp/.*secret=${shownKey}`));
    expect(mobileLink).toContain('issuer=connect-iam');
    await page.getByLabel('Login using verification code').fill(oathtool(shownKey, new Date()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.toString().startsWith(REDIRECT));

    const again = await phonePage();
    await again.goto((await startAuthorization(rp, REDIRECT)).url.toString());
    await again.getByLabel('User ID or email').fill(user.userId);
    await again.getByLabel('Password').fill(user.password);
    await again.getByRole('button', { name: 'Sign in', exact: true }).click();
    // The confirming code's step is spent; the next step's code is within the ±1 window.
    await again.getByLabel('Code from your authenticator app').fill(oathtool(shownKey, new Date(Date.now() + 30_000)));
    await again.getByRole('button', { name: 'Verify' }).click();
    await again.waitForURL((url) => url.toString().startsWith(REDIRECT));
    expect(new URL(again.url()).searchParams.get('code')).toBeTruthy();
  });
});
