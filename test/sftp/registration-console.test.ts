/**
 * The account page's ECP SFTP section in a real browser (issue 14 §4): an ECP administrator requests a key and a
 * source address through forms found by their labels, sees a refused key's field error next to the field, and
 * after another DA confirms sees the key's fingerprint (as ssh-keygen -lf prints it), added, expires and last used,
 * and the address; a DA without EU_ECPAdmin sees them without the forms.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchBrowser } from '../support/browser.js';
import { generateKeyPair } from '../../examples/ecp-sftp/host-key.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startTestConsole, type TestConsole } from '../admin-console/console-harness.js';

const SSH_KEYGEN = ['/usr/bin/ssh-keygen', '/bin/ssh-keygen'].find((p) => existsSync(p));

/** An OpenSSH public key line from ssh2's generator (drawn again when ssh2 writes a malformed ed25519 key). */
function newKey(type: 'ed25519' | 'rsa', bits?: number): string {
  return generateKeyPair(type, { ...(bits ? { bits } : {}), comment: 'erin@laptop' }).public;
}

describe('ECP SFTP access on the console account page, in a real browser', () => {
  let t: TestIdp;
  let c: TestConsole;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    t = await startTestIdp();
    c = await startTestConsole(t);
    browser = await launchBrowser();
    dir = mkdtempSync(path.join(tmpdir(), 'sftp-console-'));
  }, 60_000);
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await browser?.close();
    await c?.close();
    await t?.close();
  });

  /** A browser context signed in to the console as `account` (the console's own session cookie). */
  async function consoleAs(account: { id: string; userId: string }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const [name, value] = (await c.cookieFor(account)).split(/=(.*)/s) as [string, string];
    await context.addCookies([{ name, value, url: c.url }]);
    return { context, page: await context.newPage() };
  }

  it('requests a key and an address by the labelled fields, shows a refused key\'s error at the field, and lists them once confirmed', async () => {
    const admin = await t.createAccount({ userId: 'sftp.admin', functions: ['EU_UserMaintenance', 'EU_ECPAdmin'], delegatedAdministrator: true });
    const checker = await t.createAccount({ userId: 'sftp.checker', delegatedAdministrator: true });
    const erin = await t.createAccount({ userId: 'sftp.erin', functions: ['EU_ECPSFTP'] });
    const { context, page } = await consoleAs(admin);
    await page.goto(`${c.url}/accounts/${erin.id}`);
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'ECP SFTP access' }) });
    expect(await section.innerText()).toContain('No SSH key is registered.');

    // An RSA key of 2048 bits: refused, the message next to the field, what was entered kept.
    await section.getByText('Request an SSH key').click();
    const rsa2048 = newKey('rsa', 2048);
    await section.getByLabel('SSH public key').fill(rsa2048);
    await section.getByLabel('Key name (optional)').fill('Old laptop');
    const [refusedResponse] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), section.getByRole('button', { name: 'Request the key' }).click()]);
    expect(refusedResponse.status()).toBe(400);
    const field = page.getByLabel('SSH public key');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#sftp-public-key-error').innerText()).toBe('This RSA key has 2048 bits; RSA keys need at least 3072 bits (or use an ed25519 or ECDSA key).');
    expect(await field.getAttribute('aria-describedby')).toContain('sftp-public-key-error');
    expect((await field.inputValue()).trim()).toBe(rsa2048.trim());
    await page.screenshot({ path: await artifactPath('admin-console-sftp-key-refused.png'), fullPage: true });

    const key = newKey('ed25519');
    await field.fill(key);
    await page.getByLabel('Key name (optional)').fill('Laptop');
    await page.getByLabel('Expires after (optional)').fill('2099-12-31');
    await page.getByRole('button', { name: 'Request the key' }).click();
    await page.waitForURL(/\/requests\/[0-9a-f-]+\?done=submitted/);
    const keyRequest = page.url().match(/\/requests\/([0-9a-f-]+)/)![1]!;
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toMatch(/UM_\d{8} Register SFTP key for sftp\.erin \(Test sftp\.erin\): SHA256:/);
    // The checker reviews the key itself: fingerprint, type, the public key, name and expiry.
    const review = await page.locator('main').innerText();
    expect(review).toContain(key.split(' ').slice(0, 2).join(' '));
    expect(review).toMatch(/ED25519 \(256 bits\)/);
    expect(review).toContain('01-Jan-2100 00:00 UTC');

    await page.goto(`${c.url}/accounts/${erin.id}`);
    await page.getByText('Request a source address').click();
    await page.getByLabel('IP address or CIDR range').fill('10.1.2.3/8');
    await page.getByRole('button', { name: 'Request the address' }).click();
    expect(await page.locator('#sftp-cidr-error').innerText()).toBe('10.1.2.3/8 has host bits set: did you mean 10.0.0.0/8?');
    await page.getByLabel('IP address or CIDR range').fill('127.0.0.1');
    await page.getByLabel('Address name (optional)').fill('Office');
    await page.getByRole('button', { name: 'Request the address' }).click();
    await page.waitForURL(/\/requests\/[0-9a-f-]+\?done=submitted/);
    const addressRequest = page.url().match(/\/requests\/([0-9a-f-]+)/)![1]!;

    // Another DA checks both (the console's request page is tested elsewhere; the service is the same).
    for (const id of [keyRequest, addressRequest]) {
      const claimed = await t.idp.identity.changeRequests.claim({ accountId: checker.id }, id);
      await t.idp.identity.changeRequests.confirm({ accountId: checker.id }, id, claimed.version);
    }
    const [registered] = await t.idp.identity.sftp.listActiveKeys(erin.id);
    await t.idp.identity.sftp.recordKeyUse(registered!.id, '127.0.0.1');

    await page.goto(`${c.url}/accounts/${erin.id}`);
    const keys = page.getByRole('table', { name: /SSH keys/ });
    const row = keys.getByRole('row').nth(1);
    const cells = await row.getByRole('cell').allInnerTexts();
    if (SSH_KEYGEN) {
      const file = path.join(dir, 'erin.pub');
      writeFileSync(file, `${key}\n`);
      expect(cells[0]).toBe(execFileSync(SSH_KEYGEN, ['-lf', file], { encoding: 'utf8' }).split(' ')[1]);
    }
    expect(cells[0]).toBe(registered!.fingerprint);
    expect(cells.slice(1, 3)).toEqual(['Laptop', 'ED25519 (256 bits)']);
    expect(cells[3]).toMatch(/^\d{2}-\w{3}-\d{4} \d{2}:\d{2} UTC$/);
    expect(cells[4]).toBe('01-Jan-2100 00:00 UTC');
    expect(cells[5]).toMatch(/^\d{2}-\w{3}-\d{4} \d{2}:\d{2} UTC from 127\.0\.0\.1$/);
    expect(cells[6]).toBe('Active');
    const addresses = await page.getByRole('table', { name: /Allowed source addresses/ }).getByRole('row').nth(1).getByRole('cell').allInnerTexts();
    expect(addresses.slice(0, 2)).toEqual(['127.0.0.1/32', 'Office']);
    await page.screenshot({ path: await artifactPath('admin-console-sftp-access.png'), fullPage: true });

    // The gateway's decisions are audit events of the account and its organization: the ECP administrator finds
    // them from the account page (the event as the decision API records it, issue 14 §2).
    const organizationId = (await t.idp.identity.accounts.findAccount(erin.id))!.memberships[0]!.organizationId;
    await t.idp.identity.events.publish({ type: 'sftp.access_allowed', accountId: erin.id, organizationId, ip: '127.0.0.1', data: { fingerprint: registered!.fingerprint, gateway: 'ecp-sftp-gateway' } }, new Date());
    await page.getByRole('link', { name: 'SFTP sign-ins of this account' }).click();
    await page.waitForURL(/\/audit\?type=sftp\.access_allowed&account=sftp\.erin/);
    const audit = await page.locator('main').innerText();
    expect(audit).toContain('sftp.access_allowed');
    expect(audit).toContain(registered!.fingerprint);
    await page.goto(`${c.url}/accounts/${erin.id}`);

    // Removal is a request too.
    await page.getByRole('button', { name: `Request removal of key ${registered!.fingerprint}` }).click();
    await page.waitForURL(/\/requests\/[0-9a-f-]+\?done=submitted/);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toMatch(/Remove SFTP key of sftp\.erin .*SHA256:/);
    await context.close();

    // A DA without ECP administration sees the keys, not the forms.
    const other = await consoleAs(checker);
    await other.page.goto(`${c.url}/accounts/${erin.id}`);
    const text = await other.page.locator('main').innerText();
    expect(text).toContain(registered!.fingerprint);
    expect(text).toContain('Only a delegated administrator holding ECP administration (EU_ECPAdmin) can request SFTP key and address changes.');
    expect(await other.page.getByLabel('SSH public key').count()).toBe(0);
    expect(await other.page.getByRole('button', { name: /Request removal/ }).count()).toBe(0);
    await other.context.close();
  });
});
