/**
 * Every IdP form answers a missing or wrong-typed field (a repeated field arrives as a list) with 400 and a
 * sentence written for the person, never zod's own text ("Invalid input: expected string, received undefined").
 */
import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browser, formWith, formWithButton, latestCode, locationOf, PASSWORD, startIdp, textOf, type Browser, type IdpFixture } from './fixture.js';
import { oathtool } from '../support/authenticator.js';
import { openSignIn, signIn, submitForm } from './flow.js';

const PORTAL = { clientId: 'forms-portal', redirectUri: 'http://localhost:7751/cb' };
const ZOD_TEXT = /Invalid input|expected (string|array|boolean)|received (undefined|array)|Too (big|small)/;

/** Posts `fields` (a field given twice is sent twice) with the form's hidden fields. */
function post(b: Browser, form: { action: string; fields: Record<string, string> }, fields: [string, string][]) {
  const body = new URLSearchParams([...Object.entries(form.fields), ...fields]);
  return b.post(form.action).type('form').send(body.toString());
}

/** Asserts a 400 page that shows each of `sentences` and none of zod's own wording. */
function expectSentences(page: { status: number; text: string }, sentences: string[]) {
  expect(page.status).toBe(400);
  const text = textOf(page.text);
  for (const sentence of sentences) expect(text).toContain(sentence);
  expect(text).not.toMatch(ZOD_TEXT);
}

describe('form errors on IdP pages are sentences for the person', () => {
  let f: IdpFixture;
  let organizationId: string;
  beforeAll(async () => {
    f = await startIdp({ AUTHENTICATOR_OFFER_AT_SIGN_IN: 'true' });
    await f.client(PORTAL);
    organizationId = await f.organization('Forms Org', ['B07751']);
  });
  afterAll(() => f?.close());

  it('sign-in page: user ID or email, and password', async () => {
    const b = browser(f);
    const { page } = await openSignIn(b, PORTAL.clientId, PORTAL.redirectUri);
    const form = formWith(page.text, 'User ID or email');
    expectSentences(await post(b, form, []), ['Enter your user ID or email.', 'Enter your password.']);
    expectSentences(await post(b, form, [['login', 'a'], ['login', 'b'], ['password', 'x'], ['password', 'y']]), ['Enter your user ID or email.', 'Enter your password.']);
  });

  it('emailed code page, and the device registration page of the sign-in', async () => {
    const user = await f.account('forms.codes', organizationId);
    const b = browser(f);
    const { page } = await openSignIn(b, PORTAL.clientId, PORTAL.redirectUri);
    const codePage = await b.get(locationOf(await submitForm(b, page.text, 'User ID or email', { login: user.userId, password: PASSWORD })));
    const codeForm = formWith(codePage.text, 'One-time code');
    expectSentences(await post(b, codeForm, []), ['Enter the 6-digit code from the email.']);
    expectSentences(await post(b, codeForm, [['code', '123456'], ['code', '654321']]), ['Enter the 6-digit code from the email.']);

    const offer = await b.get(locationOf(await submitForm(b, codePage.text, 'One-time code', { code: latestCode(f, user.email) })));
    const start = formWithButton(offer.text, 'Register device');
    const qr = await b.get(locationOf(await post(b, start, [])));
    const confirm = formWith(qr.text, 'Login using verification code');
    expectSentences(await post(b, confirm, []), ['Enter the 6-digit code the app shows for this account.']);
  });

  it('authenticator app code page', async () => {
    const user = await f.account('forms.app', organizationId);
    const view = await f.identity.accounts.findAccount(user.id);
    const setup = await f.identity.authenticators.beginRegistration(view!.account, 'account_page');
    expect((await f.identity.authenticators.completeRegistration(view!.account, oathtool(setup.secret, new Date()))).outcome).toBe('ok');
    const b = browser(f);
    const { page } = await openSignIn(b, PORTAL.clientId, PORTAL.redirectUri);
    const appPage = await b.get(locationOf(await submitForm(b, page.text, 'User ID or email', { login: user.userId, password: PASSWORD })));
    const form = formWith(appPage.text, 'Code from your authenticator app');
    expectSentences(await post(b, form, []), ['Enter the 6-digit code your authenticator app shows.']);
    expectSentences(await post(b, form, [['code', '1'], ['code', '2']]), ['Enter the 6-digit code your authenticator app shows.']);
  });

  it('forgot password and the reset link page', async () => {
    const user = await f.account('forms.reset', organizationId);
    const b = browser(f);
    const forgot = await b.get('/password/forgot');
    const form = formWith(forgot.text, 'User ID or email');
    expectSentences(await post(b, form, []), ['Enter your user ID or email.', 'Enter your mobile phone number.']);
    expectSentences(await post(b, form, [['login', 'a'], ['login', 'b'], ['phone', '1'], ['phone', '2']]), ['Enter your user ID or email.', 'Enter your mobile phone number.']);

    const sent = await post(b, form, [['login', user.userId], ['phone', '+852 5555 0000']]);
    expect(sent.status).toBe(200);
    await f.identity.recovery.idle();
    const link = f.mails.filter((m) => m.to === user.email).at(-1)!.text.match(/https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]+/)![0];
    const resetPage = await b.get(new URL(link).pathname);
    const reset = formWith(resetPage.text, cheerio.load(resetPage.text)('label').first().text().trim());
    expectSentences(await post(b, reset, []), ['Enter a new password.', 'Type the new password again.']);
    expectSentences(await post(b, reset, [['password', 'a'], ['password', 'b'], ['confirmPassword', 'a'], ['confirmPassword', 'b']]), ['Enter a new password.', 'Type the new password again.']);
  });

});

describe('form errors on the account page are sentences for the person', () => {
  let f: IdpFixture;
  beforeAll(async () => {
    f = await startIdp();
    await f.client(PORTAL);
  });
  afterAll(() => f?.close());

  it('password, and the code that confirms a new app', async () => {
    const user = await f.account('forms.account', await f.organization('Account Forms Org', ['B07752']));
    const b = browser(f);
    await signIn(f, b, { ...PORTAL, login: user.userId, email: user.email });
    const page = await b.get('/account');
    const password = formWith(page.text, 'Current password');
    expectSentences(await post(b, password, []), ['Enter your current password.', 'Enter your new password.', 'Enter your new password again.']);
    expectSentences(await post(b, password, [['currentPassword', 'a'], ['currentPassword', 'b'], ['newPassword', 'a'], ['newPassword', 'b'], ['confirmPassword', 'a'], ['confirmPassword', 'b']]), ['Enter your current password.', 'Enter your new password.', 'Enter your new password again.']);

    const register = formWithButton(page.text, 'Register device');
    const qr = await post(b, register, []);
    expect(qr.status).toBe(200);
    const confirm = formWith(qr.text, 'Login using verification code');
    expectSentences(await post(b, confirm, []), ['Enter the 6-digit code your authenticator app shows.']);
    expectSentences(await post(b, confirm, [['code', '1'], ['code', '2']]), ['Enter the 6-digit code your authenticator app shows.']);
  });
});

describe('account creation input (shown by the console) names its problems in sentences', () => {
  let f: IdpFixture;
  beforeAll(async () => {
    f = await startIdp();
  });
  afterAll(() => f?.close());

  it('for missing, wrong-typed and too long fields', async () => {
    const input = { organization: ['a'], userId: 5, name: undefined, email: `${'x'.repeat(250)}@example.com`, phone: null, functions: 'EU_UserMaintenance', delegatedAdministrator: 'yes', password: 7 };
    const refused = await f.identity.accounts.createAccount(input as never, 'test').catch((error: unknown) => error as { code: string; fieldErrors: Record<string, string[]> });
    expect(refused).toMatchObject({ code: 'validation_failed' });
    const { fieldErrors } = refused as { fieldErrors: Record<string, string[]> };
    expect(Object.keys(fieldErrors).sort()).toEqual(['delegatedAdministrator', 'email', 'functions', 'name', 'organization', 'password', 'phone', 'userId']);
    expect(fieldErrors.email).toEqual(['An email address has at most 254 characters.']);
    for (const messages of Object.values(fieldErrors)) for (const message of messages) expect(message).not.toMatch(ZOD_TEXT);
  });
});
