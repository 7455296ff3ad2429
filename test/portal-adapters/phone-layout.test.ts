/**
 * The demo portals in a real browser at a 390 px phone width: pages fit without sideways scrolling,
 * buttons are large enough to tap, and the sign-out button is a labelled form control.
 * (Page scripts are strings: the project's TypeScript has no DOM library.)
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEcp } from '../../examples/ecp/app.js';
import { createEServicePortal } from '../../examples/eservice-portal/app.js';
import { sessionCookie } from './support/cookies.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

const cookieSecret = 'phone-layout-cookie-secret-of-32-chars!!';
let idp: TestIssuer;
let browser: Browser;
const servers: Server[] = [];

async function serve(create: typeof createEcp, cookieName: string) {
  const server = (await create({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, baseUrl: 'http://localhost', cookieSecret, allowInsecureRequests: true })).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cookieName };
}

beforeAll(async () => {
  idp = await startTestIssuer();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await idp.close();
});

async function openAsPhone(target: { url: string; cookieName: string }, functions: string[]) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  const [name, value] = (await sessionCookie({ cookieSecret, clientId: idp.clientId, cookieName: target.cookieName }, { functions })).split('=') as [string, string];
  await context.addCookies([{ name, value, url: target.url }]);
  const page = await context.newPage();
  await page.goto(target.url);
  return page;
}

describe('demo portals on a phone', () => {
  it.each([
    ['eService portal home', createEServicePortal, 'eservice_session', ['EU_UserMaintenance', 'EU_ParticipantshipManagement', 'EU_SettlementDepository']],
    ['ECP folders', createEcp, 'ecp_session', ['EU_ECPClearingSubmission', 'EU_ECPReportDownload']],
    ['ECP Error 2000', createEcp, 'ecp_session', ['EU_ECPAdmin']],
  ] as const)('fits %s in 390 px with tappable buttons', async (_label, create, cookieName, functions) => {
    const page = await openAsPhone(await serve(create, cookieName), [...functions]);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const signOut = page.getByRole('button', { name: 'Sign out' });
    expect((await signOut.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    expect(await page.evaluate<number>('parseFloat(getComputedStyle(document.body).fontSize)')).toBeGreaterThanOrEqual(16);
    await page.context().close();
  });
});
