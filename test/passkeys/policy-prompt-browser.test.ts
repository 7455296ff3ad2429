/**
 * The operator's rule "delegated administrators need a phishing-resistant factor" (identity's phishingResistant,
 * issue 13 §4) at sign-in, in Chromium with a virtual authenticator: a delegated administrator without a passkey
 * is asked to register one after the second factor, "Skip this step" while the grace period runs, registers it
 * with the creation ceremony, and signs in with it next time; past the grace period there is no skipping.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, signInWithEmailCode } from '../support/browser.js';
import type { TestIdp } from '../support/harness.js';
import { redeem } from '../support/sign-in.js';
import { authorize, nextCallback, pageWithAuthenticator, simulatePresence, startLocalhostIdp, submitPassword, type TestPortal } from './browser-support.js';

describe('a delegated administrator under the passkey rule is asked to register a passkey at sign-in', () => {
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

  /** A delegated administrator of a new organization whose rule requires a passkey with `gracePeriodSeconds`. */
  async function administratorUnderRule(userId: string, gracePeriodSeconds: number) {
    const organization = await t.newOrganization();
    const user = await t.createAccount({ userId, delegatedAdministrator: true, organization });
    await t.idp.identity.phishingResistant.setRule(organization, { requirement: 'required', gracePeriodSeconds }, 'operator.test');
    return user;
  }

  it('within the grace period: may skip, then registers a passkey and signs in with it next time', async () => {
    const user = await administratorUnderRule('da.grace', 7 * 24 * 3600);
    const { context, page, cdp, authenticatorId } = await pageWithAuthenticator(browser);
    await authorize(page, rp);
    await signInWithEmailCode(page, t.smtp, user);
    await page.getByRole('button', { name: 'Skip this step' }).click();
    await nextCallback(page);
    expect(await t.idp.identity.passkeys.list(user.id)).toHaveLength(0);

    await context.clearCookies();
    const auth = await authorize(page, rp);
    await signInWithEmailCode(page, t.smtp, user);
    await page.getByRole('button', { name: 'Register a passkey' }).click();
    await page.getByLabel('Passkey name').fill('Office laptop');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    // The sign-in goes on with the factor that was verified (the emailed code): the new passkey is for next time.
    expect((await redeem(rp.rp, await nextCallback(page), auth)).claims()?.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect((await t.idp.identity.passkeys.list(user.id)).map((p) => p.name)).toEqual(['Office laptop']);

    await context.clearCookies();
    await simulatePresence(cdp, authenticatorId, false);
    const next = await authorize(page, rp);
    await submitPassword(page, user);
    await page.getByRole('button', { name: 'Use your passkey' }).waitFor();
    await simulatePresence(cdp, authenticatorId, true);
    await page.getByRole('button', { name: 'Use your passkey' }).click();
    expect((await redeem(rp.rp, await nextCallback(page), next)).claims()).toMatchObject({ acr: 'phr' });
    await context.close();
  });

  it('past the grace period: no "Skip this step", only registering', async () => {
    const user = await administratorUnderRule('da.due', 0);
    const { context, page } = await pageWithAuthenticator(browser);
    await authorize(page, rp);
    await signInWithEmailCode(page, t.smtp, user);
    await page.getByRole('button', { name: 'Register a passkey' }).waitFor();
    expect(await page.getByRole('button', { name: 'Skip this step' }).count()).toBe(0);
    await context.close();
  });
});
