/**
 * What the interop tests share (issue 11 §10): a relying-party app on a loopback port, and a person who signs in
 * through it with the {@link UserAgent} (password, then the emailed code from the real SMTP capture).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { expect } from 'vitest';
import { submitPassword } from '../support/sign-in.js';
import { otpFrom, type SmtpCapture } from '../support/smtp-capture.js';
import { textOf, type Page, type UserAgent } from '../support/user-agent.js';

/** A listening relying-party app. */
export interface RunningApp {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  close(): Promise<void>;
}

/** Starts `app` on 127.0.0.1 with a random port. Routes may be added after it listens (the RP needs its own URL first). */
export async function listen(app: Express): Promise<RunningApp> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The person signing in. */
export interface Person {
  userId: string;
  password: string;
  email: string;
}

/**
 * Opens `startUrl` (an app route that sends the browser to the IdP), signs in with password and the emailed
 * code, and follows the redirects back through the app's callback to the app's final page.
 * @throws when a step does not show the expected page.
 */
export async function signInThroughApp(ua: UserAgent, startUrl: string, person: Person, smtp: SmtpCapture): Promise<Page> {
  const signInPage = await ua.follow(startUrl);
  expectSignInPage(signInPage);
  const since = smtp.messages.length;
  const codePage = await submitPassword(ua, signInPage, person.userId, person.password);
  if (codePage.status >= 400) throw new Error(`password step answered ${codePage.status}`);
  const mail = await smtp.waitFor(person.email, { since });
  return ua.submit(codePage, { 'One-time code': otpFrom(mail) });
}

/** Asserts `page` is the IdP's sign-in page (it asks for the password). */
export function expectSignInPage(page: Page): void {
  expect(page.status).toBe(200);
  expect(page.html).toMatch(/<label[^>]*>\s*Password\s*<\/label>/);
}

/**
 * Confirms the IdP's RP-initiated logout page ("Sign out") and follows the redirects back to the app.
 * @param stopAt - stop before fetching this next hop (for a post-logout URI nothing listens on).
 * @returns the page the app shows after logout, or `{ redirectedTo }` when stopped.
 */
export async function confirmSignOut(ua: UserAgent, logoutPage: Page, stopAt?: (next: string) => boolean): Promise<Page & { redirectedTo?: string }> {
  expect(textOf(logoutPage.html)).toContain('Do you want to sign out');
  return ua.submit(logoutPage, {}, { button: 'Sign out', stopAt });
}

/** The JSON body of an app page. */
export function jsonOf<T = Record<string, unknown>>(page: Page): T {
  expect(page.status).toBe(200);
  return JSON.parse(page.html) as T;
}
