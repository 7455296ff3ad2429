/**
 * The pages of the sign-in steps and the messages they show. One generic message for every failed
 * password step (design/security.md §3): it never says whether the account exists or why it failed.
 */
import type { CodeDelivery, MembershipWithOrganization } from '../../identity/index.js';
import type { PageChrome } from '../views.js';

/** Renders a page of the current interaction with a status (see `renderStep`). */
export type StepPage = (status: number, name: string, model: PageChrome & Record<string, unknown>) => Promise<void>;

export const MESSAGES = {
  invalidCredentials: 'The user ID/email or password is incorrect.',
  passwordFirst: 'Sign in with your user ID or email and password first.',
  codeInvalid: 'The code is incorrect. Check the latest email we sent you and try again.',
  codeExpired: 'This code has expired. Press "Resend code" to get a new one.',
  chooseOrganization: 'Choose one of your organizations.',
} as const;

/** A first-step factor's part of the sign-in page besides the password form: an EJS partial and its model. */
export interface FirstStepPart {
  partial: string;
  model: Record<string, unknown>;
}

/** The sign-in page (user ID or email, password; `firstSteps`: other first-step factors' parts, e.g. a passkey button). */
export function signInPage(page: StepPage, status: number, model: { login?: string; message?: string; fieldErrors?: Record<string, string[]>; firstSteps?: FirstStepPart[] } = {}) {
  return page(status, 'sign-in', { title: 'Sign in', firstSteps: [], ...model, login: model.login ?? '' });
}

/**
 * The one-time code page. It says only what `delivery` makes true: "We emailed…" once the code was delivered,
 * "Sending your code…" (the page reloads itself every 2 seconds) while it is on its way, and "We are having
 * trouble sending email" while attempts fail.
 */
export function codePage(page: StepPage, status: number, model: { delivery: CodeDelivery; message?: string; messageKind?: 'error' | 'info'; fieldErrors?: Record<string, string[]> }) {
  return page(status, 'email-otp', { title: 'Enter your one-time code', refreshSeconds: model.delivery.state === 'sending' ? 2 : undefined, ...model });
}

/** The choice of the acting organization. */
export function organizationPage(page: StepPage, status: number, memberships: MembershipWithOrganization[], fieldErrors?: Record<string, string[]>) {
  const organizations = memberships.map((m) => ({ id: m.organization.id, name: m.organization.name, participantIds: m.organization.participantIds }));
  return page(status, 'organization', { title: 'Choose your organization', organizations, fieldErrors, message: fieldErrors ? MESSAGES.chooseOrganization : undefined });
}

/** Shown only after the right password (or a code) reached a locked account: how to get unlocked. */
export function lockedPage(page: StepPage) {
  return page(403, 'locked', { title: 'Your account is locked' });
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirmation of who you are',
  profile: 'Your name',
  email: 'Your email address',
  organization: 'The organization you act for and your access rights in it',
  offline_access: 'Access while you are not using it',
};

/** What a consent prompt's details ask for, in words. */
export function describeConsent(details: Record<string, unknown>): string[] {
  const scopes = (details.missingOIDCScope as string[] | undefined) ?? [];
  const claims = (details.missingOIDCClaims as string[] | undefined) ?? [];
  const resources = Object.keys((details.missingResourceScopes as Record<string, string[]> | undefined) ?? {});
  return [
    ...scopes.map((s) => SCOPE_DESCRIPTIONS[s] ?? `Scope ${s}`),
    ...claims.map((c) => `Your ${c.replace(/_/g, ' ')}`),
    ...resources.map((r) => `Access to ${r} on your behalf`),
  ];
}
