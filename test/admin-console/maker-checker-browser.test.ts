import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchBrowser, signInWithEmailCode } from '../support/browser.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startTestPortals, type TestPortals } from '../support/portals.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

describe('maker-checker in the admin console, in a real browser', () => {
  let t: TestIdp;
  let c: TestConsole;
  let portals: TestPortals;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    portals = await startTestPortals(t);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portals?.close();
    await c?.close();
    await t?.close();
  });

  /** Opens the console, signs in at the IdP with password and emailed code, and lands on the dashboard. */
  async function signIn(page: Page, user: { userId: string; password: string; email: string }) {
    await page.goto(c.url);
    await page.waitForURL((url) => url.toString().startsWith(t.issuer));
    await signInWithEmailCode(page, t.smtp, user);
    await page.waitForURL((url) => url.toString().startsWith(c.url) && !url.pathname.startsWith('/auth/'));
  }

  it('DA 1 requests a new account; DA 2 on a phone claims and confirms it; the new user sets a password from the email and signs in to the eService portal', async () => {
    const maker = await t.createAccount({ userId: 'mc.maker', delegatedAdministrator: true });
    const checker = await t.createAccount({ userId: 'mc.checker', delegatedAdministrator: true });

    const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const makerPage = await desk.newPage();
    await signIn(makerPage, maker);
    await makerPage.getByRole('link', { name: 'Request a new account' }).first().click();
    await makerPage.getByLabel('User ID').fill('jchan01');
    await makerPage.getByLabel('Name').fill('Jane Chan');
    await makerPage.getByLabel('Email').fill('jane.chan@example.com');
    await makerPage.getByLabel('Mobile phone').fill('+852 5555 0177');
    await makerPage.getByLabel(/EU_SettlementDepository/).check();
    await makerPage.getByLabel(/Any message to the checker/).fill('New settlement clerk, starts Monday.');
    await makerPage.getByRole('button', { name: 'Submit to checker' }).click();
    await makerPage.waitForURL(/\/requests\/[0-9a-f-]+\?done=submitted/);
    const heading = await makerPage.getByRole('heading', { level: 1 }).innerText();
    expect(heading).toMatch(/UM_\d{8} Create account jchan01 \(Jane Chan\)/);
    expect(await makerPage.locator('main').innerText()).toContain('Ready for checker');
    const reference = heading.match(/UM_\d{8}/)![0];
    await desk.close();

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await phone.newPage();
    await signIn(page, checker);
    await expect.poll(() => page.locator('#to-check').innerText()).toContain('To check');
    expect(await page.locator('main').innerText()).toContain(reference);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: await artifactPath('admin-console-dashboard-phone.png'), fullPage: true });
    await page.getByRole('link', { name: new RegExp(reference) }).first().click();
    await page.getByRole('button', { name: 'Claim' }).click();
    await page.waitForURL(/done=claim/);
    expect(await page.locator('main').innerText()).toMatch(/Claimed by Test mc\.checker \d{2}-\w{3}-\d{4} \d{2}:\d{2}/);
    expect(await page.locator('main').innerText()).toContain('New settlement clerk, starts Monday.');
    await page.screenshot({ path: await artifactPath('admin-console-request-phone.png'), fullPage: true });
    const mailsBeforeConfirm = t.smtp.messages.length;
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(/done=confirm/);
    expect(await page.locator('main').innerText()).toContain('Confirmed: the change is done.');
    expect(await page.locator('main').innerText()).toContain('Completed');
    await phone.close();

    const created = await t.idp.identity.accounts.getAccountByLogin('jchan01');
    expect(created.account.name).toBe('Jane Chan');
    expect(created.memberships[0]!.functions).toEqual(['EU_SettlementDepository']);

    const welcome = await t.smtp.waitFor('jane.chan@example.com', { since: mailsBeforeConfirm });
    expect(welcome.subject).toBe('connect-iam: set your password');
    const link = /https?:\/\/\S+\/password\/set\/[A-Za-z0-9_-]+/.exec(welcome.text)?.[0];
    expect(link?.startsWith(`${t.issuer}/password/set/`)).toBe(true);
    const user = { userId: 'jchan01', email: 'jane.chan@example.com', password: 'lantern orchard quietly humming' };
    const newUser = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const userPage = await newUser.newPage();
    await userPage.goto(link!);
    expect(await userPage.getByRole('heading', { level: 1 }).innerText()).toBe('Set your password');
    expect(await userPage.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await userPage.screenshot({ path: await artifactPath('idp-set-password-phone.png'), fullPage: true });
    await userPage.getByLabel('New password', { exact: true }).fill(user.password);
    await userPage.getByLabel('Confirm new password').fill(user.password);
    await userPage.getByRole('button', { name: 'Set password' }).click();
    await userPage.getByText('Your password is set.').waitFor();
    await userPage.goto(portals.eserviceUrl);
    await userPage.getByRole('link', { name: 'Sign in' }).click();
    await userPage.waitForURL((url) => url.toString().startsWith(t.issuer));
    await signInWithEmailCode(userPage, t.smtp, user);
    await userPage.waitForURL((url) => url.toString().startsWith(portals.eserviceUrl) && !url.pathname.startsWith('/auth/'));
    await expect.poll(() => userPage.locator('main').innerText()).toContain('Jane Chan');
    await newUser.close();
  });
});
