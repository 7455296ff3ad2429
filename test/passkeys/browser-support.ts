/**
 * What the passkey browser tests share: an IdP at http://localhost:<port> (WebAuthn needs a secure context and a
 * domain as RP ID, and http://localhost is both), Chromium pages with a virtual authenticator (CDP WebAuthn
 * domain), and the steps a person takes: sign in with an emailed code, register a passkey on /account.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import type * as client from 'openid-client';
import { freePort, signInWithEmailCode } from '../support/browser.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization, type StartedAuthorization } from '../support/sign-in.js';

/** The portal's callback: a real local page (playwright's route does not always catch a redirect sent after a passkey ceremony). */
let portal: Promise<{ redirect: string; server: Server }> | undefined;
function portalCallback() {
  portal ??= (async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>portal</h1>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    return { redirect: `http://localhost:${(server.address() as AddressInfo).port}/cb`, server };
  })();
  return portal;
}

/** A platform authenticator that keeps discoverable credentials and verifies the person (CDP `VirtualAuthenticatorOptions`). */
export const PLATFORM_AUTHENTICATOR = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } as const;

/** A portal of the test: openid-client's configuration and its redirect URI. */
export interface TestPortal {
  rp: client.Configuration;
  redirect: string;
}

/** An IdP whose issuer is `http://localhost:<port>`, with one client whose callback is a local page. */
export async function startLocalhostIdp(env: Record<string, string> = {}, options: Parameters<typeof startTestIdp>[1] = {}): Promise<{ t: TestIdp; rp: TestPortal }> {
  const port = await freePort();
  const t = await startTestIdp({ PORT: String(port), ISSUER: `http://localhost:${port}`, ...env }, options);
  const { redirect } = await portalCallback();
  const { rp } = await t.registerClient({ clientId: 'passkey-portal', redirectUri: redirect });
  return { t, rp: { rp, redirect } };
}

/** A browser context whose page has a virtual authenticator. */
export async function pageWithAuthenticator(browser: Browser): Promise<{ context: BrowserContext; page: Page; cdp: CDPSession; authenticatorId: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: PLATFORM_AUTHENTICATOR });
  return { context, page, cdp, authenticatorId };
}

/** Opens a new authorization request of the portal in `page` (the sign-in page unless the session answers it). */
export async function authorize(page: Page, portal: TestPortal, extra: Record<string, string> = {}): Promise<StartedAuthorization> {
  const auth = await startAuthorization(portal.rp, portal.redirect, extra);
  await page.goto(auth.url.toString());
  return auth;
}

/** Waits until the IdP sent the browser back to the portal; the callback URL (with the code). */
export async function nextCallback(page: Page): Promise<URL> {
  const { redirect } = await portalCallback();
  await page.waitForURL((url) => url.toString().startsWith(redirect));
  return new URL(page.url());
}

/** Signs in with password and emailed code, then registers a passkey named `name` on /account. */
export async function registerPasskeyOnAccountPage(page: Page, t: TestIdp, rp: TestPortal, user: { userId: string; password: string; email: string }, name = 'Laptop'): Promise<void> {
  await authorize(page, rp);
  await signInWithEmailCode(page, t.smtp, user);
  await nextCallback(page);
  await page.goto(`${t.issuer}/account`);
  await page.getByLabel('Passkey name').fill(name);
  await page.getByRole('button', { name: 'Register a passkey' }).click();
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.waitForURL((url) => url.searchParams.get('done') === 'passkey_registered');
}

/**
 * Whether the virtual authenticator answers by itself (simulated user presence). A request made while it is off
 * waits, and is not answered when it is turned on later: so with presence off, the sign-in page's autofill request
 * (conditional mediation) stays pending, and a test can press the buttons instead.
 */
export async function simulatePresence(cdp: CDPSession, authenticatorId: string, enabled: boolean): Promise<void> {
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
}

/** Fills user ID and password on the sign-in page and submits them. */
export async function submitPassword(page: Page, user: { userId: string; password: string }): Promise<void> {
  await page.getByLabel('User ID or email').fill(user.userId);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}
