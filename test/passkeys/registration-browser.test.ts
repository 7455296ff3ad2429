import { decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchBrowser, signInWithEmailCode } from '../support/browser.js';
import type { TestIdp } from '../support/harness.js';
import { PLATFORM_AUTHENTICATOR, authorize, nextCallback, pageWithAuthenticator, startLocalhostIdp, type TestPortal } from './browser-support.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signs in at the portal (password + emailed code), then opens /account. */
async function signInAndOpenAccount(page: Page, t: TestIdp, rp: TestPortal, user: { userId: string; password: string; email: string }) {
  await authorize(page, rp);
  await signInWithEmailCode(page, t.smtp, user);
  await nextCallback(page);
  await page.goto(`${t.issuer}/account`);
}

/** Registers a passkey named `name` from the account page, through the ceremony page. */
async function registerPasskey(page: Page, name: string) {
  await page.getByLabel('Passkey name').fill(name);
  await page.getByRole('button', { name: 'Register a passkey' }).click();
  await page.getByRole('button', { name: 'Create passkey' }).click();
}

const rows = (page: Page) => page.locator('table.passkeys tbody tr');

describe('registering passkeys on /account in Chromium with a virtual authenticator', () => {
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

  it('registers a named passkey, lists it, refuses the same device twice, registers a second from another device, and removes one', async () => {
    const user = await t.createAccount({ userId: 'passkey.owner' });
    const { context, page, cdp, authenticatorId } = await pageWithAuthenticator(browser);
    await signInAndOpenAccount(page, t, rp, user);
    await expect.poll(() => page.locator('#passkeys').innerText()).toContain('You have no passkeys.');

    await registerPasskey(page, 'Work laptop');
    await page.waitForURL((url) => url.searchParams.get('done') === 'passkey_registered');
    await expect.poll(() => page.locator('.message, [role="status"], main').first().innerText()).toContain('Your passkey is registered.');
    await expect.poll(() => rows(page).count()).toBe(1);
    expect(await rows(page).first().innerText()).toMatch(/Work laptop\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+not used yet/);

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(true);
    const stored = await t.idp.identity.passkeys.list(user.id);
    expect(stored.map((p) => p.name)).toEqual(['Work laptop']);
    expect(Buffer.from(stored[0]!.credentialId, 'base64url').equals(Buffer.from(credentials[0]!.credentialId, 'base64'))).toBe(true);
    expect([1, 2]).toContain(decodeCredentialPublicKey(new Uint8Array(stored[0]!.publicKey)).get(1)); // COSE kty: OKP or EC2
    expect(stored[0]!.transports).toContain('internal');
    const registered = (await t.idp.identity.stores.audit.list({ accountId: user.id, limit: 20 })).filter((e) => e.type === 'passkey.registered');
    expect(registered).toHaveLength(1);
    expect(registered[0]!.data).toMatchObject({ passkeyId: stored[0]!.id, name: 'Work laptop', userVerified: true });

    // The same authenticator is in excludeCredentials: it refuses to create a second credential.
    await registerPasskey(page, 'Same laptop again');
    await expect.poll(() => page.locator('#passkey-status').innerText()).toContain('This device already holds a passkey for your account.');
    expect(await t.idp.identity.passkeys.list(user.id)).toHaveLength(1);

    // Another device: a second virtual authenticator in place of the first.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: PLATFORM_AUTHENTICATOR });
    await page.goto(`${t.issuer}/account`);
    await registerPasskey(page, 'Phone');
    await page.waitForURL((url) => url.searchParams.get('done') === 'passkey_registered');
    await expect.poll(() => rows(page).count()).toBe(2);
    expect(await rows(page).allInnerTexts()).toEqual([expect.stringContaining('Work laptop'), expect.stringContaining('Phone')]);
    await page.screenshot({ path: await artifactPath('passkeys-account-page.png'), fullPage: true });

    await page.getByRole('button', { name: 'Remove passkey Work laptop' }).click();
    await page.waitForURL((url) => url.searchParams.get('done') === 'passkey_removed');
    await expect.poll(() => rows(page).count()).toBe(1);
    expect(await rows(page).first().innerText()).toContain('Phone');
    expect((await t.idp.identity.passkeys.list(user.id)).map((p) => p.name)).toEqual(['Phone']);
    const removed = (await t.idp.identity.stores.audit.list({ accountId: user.id, limit: 20 })).filter((e) => e.type === 'passkey.removed');
    expect(removed.map((e) => e.data.name)).toEqual(['Work laptop']);
    await context.close();
  });

  it('refuses an empty name with a field error and starts no ceremony', async () => {
    const user = await t.createAccount({ userId: 'passkey.noname' });
    const { context, page } = await pageWithAuthenticator(browser);
    await signInAndOpenAccount(page, t, rp, user);
    await page.getByLabel('Passkey name').fill('   ');
    await page.getByRole('button', { name: 'Register a passkey' }).click();
    await expect.poll(() => page.locator('#passkeyName-error').innerText()).toBe('Give the passkey a name, such as the device it is on.');
    expect(await t.idp.identity.passkeys.list(user.id)).toHaveLength(0);
    await context.close();
  });
});

describe('a stale sign-in is sent to sign in again before a passkey is registered or removed (REAUTHENTICATION_MAX_AGE_SECONDS)', () => {
  const MAX_AGE_SECONDS = 4;
  let browser: Browser;
  let t: TestIdp;
  let rp: TestPortal;

  beforeAll(async () => {
    ({ t, rp } = await startLocalhostIdp({ REAUTHENTICATION_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS) }));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('asks for the sign-in pages first, then comes back to the passkeys to register, and again to remove', async () => {
    const user = await t.createAccount({ userId: 'passkey.stale' });
    const { context, page } = await pageWithAuthenticator(browser);
    await signInAndOpenAccount(page, t, rp, user);
    await sleep((MAX_AGE_SECONDS + 1.5) * 1000);

    await page.getByLabel('Passkey name').fill('Desk key');
    await page.getByRole('button', { name: 'Register a passkey' }).click();
    await page.getByLabel('User ID or email').waitFor();
    expect(await t.idp.identity.passkeys.list(user.id)).toHaveLength(0);
    await signInWithEmailCode(page, t.smtp, user);
    await page.waitForURL((url) => url.pathname === '/account' && url.searchParams.get('resume') === 'passkey_register');
    expect(new URL(page.url()).hash).toBe('#passkeys');
    await expect.poll(() => page.locator('main').innerText()).toContain('You signed in again. You can now register a passkey.');
    await registerPasskey(page, 'Desk key');
    await page.waitForURL((url) => url.searchParams.get('done') === 'passkey_registered');
    expect((await t.idp.identity.passkeys.list(user.id)).map((p) => p.name)).toEqual(['Desk key']);

    await sleep((MAX_AGE_SECONDS + 1.5) * 1000);
    await page.getByRole('button', { name: 'Remove passkey Desk key' }).click();
    // The account has a passkey now: the sign-in page's autofill signs the person in with it (the virtual
    // authenticator answers by itself), no password or code typed.
    await page.waitForURL((url) => url.searchParams.get('resume') === 'passkey_remove');
    await expect.poll(() => page.locator('main').innerText()).toContain('You signed in again. You can now remove the passkey.');
    await page.getByRole('button', { name: 'Remove passkey Desk key' }).click();
    await page.waitForURL((url) => url.searchParams.get('done') === 'passkey_removed');
    expect(await t.idp.identity.passkeys.list(user.id)).toHaveLength(0);
    await context.close();
  });
});
