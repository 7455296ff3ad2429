/**
 * The steps of a sign-in as a browser takes them, for idp/ tests: authorization request, sign-in page,
 * code page, organization page, back to the client; then the client's token request.
 */
import { expect } from 'vitest';
import { authorizationUrl, formWith, latestCode, locationOf, PASSWORD, type Browser, type IdpFixture } from './fixture.js';

/** Sends an authorization request and follows to the first interaction page; returns that page. */
export async function openSignIn(b: Browser, clientId: string, redirectUri: string, extra: Record<string, string> = {}) {
  const { url, verifier } = authorizationUrl(clientId, redirectUri, extra);
  const started = await b.get(url);
  expect(started.status).toBe(303);
  const path = locationOf(started);
  const page = await b.get(path);
  return { page, path, verifier };
}

/** Submits the form that holds the field labelled `label`, with `values` by field name. */
export async function submitForm(b: Browser, html: string, label: string, values: Record<string, string>) {
  const form = formWith(html, label);
  return b.post(form.action).type('form').send({ ...form.fields, ...values });
}

/**
 * Signs `login` in from a fresh authorization request through password and code (and the organization
 * page, choosing the radio button labelled `organization.label`, when `organization` is given). Returns the callback URL with the code, and the PKCE verifier.
 */
export async function signIn(f: IdpFixture, b: Browser, input: { clientId: string; redirectUri: string; login: string; email: string; organization?: { id: string; label: string }; extra?: Record<string, string> }) {
  const { page, verifier } = await openSignIn(b, input.clientId, input.redirectUri, input.extra);
  const afterPassword = await submitForm(b, page.text, 'User ID or email', { login: input.login, password: PASSWORD });
  expect(afterPassword.status).toBe(303);
  const codePage = await b.get(locationOf(afterPassword));
  let next = await submitForm(b, codePage.text, 'One-time code', { code: latestCode(f, input.email) });
  if (input.organization) {
    const organizationPage = await b.get(locationOf(next));
    next = await submitForm(b, organizationPage.text, input.organization.label, { organizationId: input.organization.id });
  }
  const resumed = await b.get(locationOf(next));
  expect(resumed.status).toBe(303);
  return { callback: new URL(resumed.headers.location!), verifier };
}

/** The client's token request (client_secret_basic, PKCE). */
export function redeem(b: Browser, input: { clientId: string; secret: string; redirectUri: string; callback: URL; verifier: string; resource?: string }) {
  return b
    .post('/token')
    .auth(input.clientId, input.secret)
    .type('form')
    .send({ grant_type: 'authorization_code', code: input.callback.searchParams.get('code')!, redirect_uri: input.redirectUri, code_verifier: input.verifier, ...(input.resource ? { resource: input.resource } : {}) });
}

/** The payload of a JWT, unverified (tests verify signatures separately with jose). */
export function payloadOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
