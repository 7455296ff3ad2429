/**
 * A person at a demo portal, for tests of what ends a portal session (suspension, a change of functions):
 * open a page, signing in through the IdP's pages when asked, and see where the portal sends the agent next.
 */
import { expect } from 'vitest';
import type { TestIdp } from './harness.js';
import { submitPassword } from './sign-in.js';
import { otpFrom } from './smtp-capture.js';
import type { Page, UserAgent } from './user-agent.js';

/** Opens `url` at a portal; when the IdP asks, signs in with password and emailed code; returns the page reached. */
export async function openSignedIn(t: TestIdp, ua: UserAgent, url: string, user: { userId: string; password: string; email: string }): Promise<Page> {
  const first = await ua.follow(url);
  if (!first.html.includes('User ID or email')) return first;
  const since = t.smtp.messages.length;
  const codePage = await submitPassword(ua, first, user.userId, user.password);
  const mail = await t.smtp.waitFor(user.email, { since });
  return ua.submit(codePage, { 'One-time code': otpFrom(mail) });
}

/** Where a GET of `url` with the agent's cookies goes, without following: null when the page answers 200. */
export async function redirectOf(ua: UserAgent, url: string): Promise<string | null> {
  const page = await ua.request(url);
  if (page.status === 200) return null;
  expect(page.status).toBe(303);
  return page.headers.get('location');
}
