import { registerFirstPartyClient } from '../../server/first-party-client.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoPortals } from '../../examples/start-portals.js';
import { artifactPath, freePort, launchBrowser, signInWithEmailCode } from '../support/browser.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';

describe('one sign-in for the eService portal and ECP, in a real browser', () => {
  let t: TestIdp;
  let browser: Browser;
  let portals: { close(): Promise<void> };
  let eserviceUrl: string;
  let ecpUrl: string;

  beforeAll(async () => {
    t = await startTestIdp();
    const [p1, p2] = [await freePort(), await freePort()];
    eserviceUrl = `http://localhost:${p1}`;
    ecpUrl = `http://localhost:${p2}`;
    const register = async (clientId: string, origin: string) => ({ clientId, clientSecret: await registerFirstPartyClient(t.idp.clients, { clientId, clientName: clientId, origin }) });
    const eservice = await register('eservice-portal', eserviceUrl);
    const ecp = await register('ecp', ecpUrl);
    portals = await startDemoPortals({
      issuer: t.issuer,
      host: '127.0.0.1',
      cookieSecret: 'a-test-cookie-secret-of-at-least-32-chars',
      eservice: { port: p1, clientId: eservice.clientId, clientSecret: eservice.clientSecret },
      ecp: { port: p2, clientId: ecp.clientId, clientSecret: ecp.clientSecret },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await portals?.close();
    await t?.close();
  });

  const signIn = (page: import('playwright-core').Page, userId: string, password: string, email: string) => signInWithEmailCode(page, t.smtp, { userId, password, email });

  it('signs in at the eService portal with password and emailed code, then opens ECP without signing in again', async () => {
    const user = await t.createAccount({ userId: 'sso.carol', functions: ['EU_UserMaintenance', 'EU_ECPClearingSubmission'] });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(eserviceUrl);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.toString().startsWith(t.issuer));
    await page.screenshot({ path: await artifactPath('idp-sign-in-phone.png'), fullPage: true });
    await signIn(page, user.userId, user.password, user.email);
    await page.waitForURL((url) => url.toString().startsWith(eserviceUrl));
    const home = await page.locator('main').innerText();
    expect(home).toContain('Test sso.carol');
    expect(home).toContain('Test Securities Limited');
    expect(home).toContain('B09999');
    expect(home).toContain('Delegated Administrator Application / Maintenance');

    const mailsBefore = t.smtp.messages.length;
    await page.goto(ecpUrl);
    await page.waitForURL((url) => url.toString().startsWith(ecpUrl) && !url.pathname.startsWith('/auth/'));
    const ecp = await page.locator('main').innerText();
    expect(ecp).toContain('Clearing Submission');
    expect(t.smtp.messages.length).toBe(mailsBefore);
    await context.close();
  });

  /** Signs `user` in through ECP in a fresh browser context and returns the ECP page it lands on. */
  async function signInAtEcp(user: { userId: string; password: string; email: string }) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(ecpUrl);
    await page.waitForURL((url) => url.toString().startsWith(t.issuer));
    await signIn(page, user.userId, user.password, user.email);
    await page.waitForURL((url) => url.toString().startsWith(ecpUrl));
    return { page, close: () => context.close() };
  }

  it('shows an administration-only account the "Error 2000" page at ECP', async () => {
    const admin = await t.createAccount({ userId: 'sso.admin', functions: ['EU_UserMaintenance', 'EU_ECPAdmin'], delegatedAdministrator: true });
    const { page, close } = await signInAtEcp(admin);
    expect(await page.title()).toContain('Error 2000');
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain('Error 2000');
    await close();
  });

  it('tells an EU_ECPSFTP-only account that its ECP access is SFTP only', async () => {
    const sftp = await t.createAccount({ userId: 'sso.sftp', functions: ['EU_ECPSFTP'] });
    const { page, close } = await signInAtEcp(sftp);
    expect(await page.locator('main').innerText()).toMatch(/SFTP only/i);
    await close();
  });
});
