/**
 * The authenticator app pages of sign-in: the app code page, the "Register device" / "Skip this step" offer,
 * and the registration page (QR code, secret as text, "On a mobile device?" link, first code).
 */
import type { AuthenticatorSetup } from '../../identity/index.js';
import { qrDataUrl } from '../qr-code.js';
import type { StepPage } from './pages.js';

export const FACTOR_MESSAGES = {
  appCodeInvalid: 'The code is incorrect or was already used. Enter the current code from your authenticator app.',
  registrationCodeInvalid: 'That code does not match. Make sure the app shows this account, then enter its current code.',
  registrationExpired: 'This registration took too long, so we made a new QR code. Scan it again (remove the old entry from the app first).',
} as const;

/** Fields of a code form: errors and a message. */
type FormModel = { message?: string; messageKind?: 'error' | 'info'; fieldErrors?: Record<string, string[]> };

/** The app code page; `emailFallback` shows "Email me a code instead". */
export function appCodePage(page: StepPage, status: number, model: FormModel & { emailFallback: boolean }) {
  return page(status, 'app-code', { title: 'Enter the code from your authenticator app', ...model });
}

/** "Register device" / "Skip this step". `campaign`: a re-registration campaign asks (rather than the plain offer). */
export function registrationOfferPage(page: StepPage, status: number, model: FormModel & { skipAllowed: boolean; campaign: boolean }) {
  return page(status, 'register-offer', { title: model.campaign ? 'Register your authenticator app again' : 'Use an authenticator app?', ...model });
}

/** The view model of the registration form, shared by sign-in and the account page. */
export async function setupModel(setup: AuthenticatorSetup) {
  return { secret: setup.secret, secretGroups: setup.secret.match(/.{1,4}/g)?.join(' ') ?? setup.secret, uri: setup.uri, qr: await qrDataUrl(setup.uri) };
}

/** The registration page of sign-in. */
export async function registerDevicePage(page: StepPage, status: number, setup: AuthenticatorSetup, model: FormModel = {}) {
  return page(status, 'register-device', { title: 'Register a device', ...(await setupModel(setup)), ...model });
}
