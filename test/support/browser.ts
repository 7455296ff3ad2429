/**
 * A real browser for page tests: Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) driven by
 * playwright-core, started with the flags this machine's closed network needs.
 */
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { otpFrom, type SmtpCapture } from './smtp-capture.js';

/** Launches headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Where screenshots go (kept by CI as test artifacts). */
export async function artifactPath(name: string): Promise<string> {
  const dir = new URL('../../test-artifacts/', import.meta.url);
  await mkdir(dir, { recursive: true });
  return new URL(name, dir).pathname;
}

export { freePort } from './ports.js';

/**
 * On the IdP's sign-in page, signs `user` in as a person would: fields found by their labels, the emailed code
 * read from the SMTP capture. Leaves the page wherever the IdP sends it next.
 */
export async function signInWithEmailCode(page: Page, smtp: SmtpCapture, user: { userId: string; password: string; email: string }): Promise<void> {
  await page.getByLabel('User ID or email').fill(user.userId);
  await page.getByLabel('Password').fill(user.password);
  const since = smtp.messages.length;
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('One-time code').fill(otpFrom(await smtp.waitFor(user.email, { since })));
  await page.getByRole('button', { name: 'Verify' }).click();
}
