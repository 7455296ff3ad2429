/**
 * Signing in with a passkey, a static module under the IdP's strict CSP (no inline script). Two forms use it:
 *
 * - `#passkey-sign-in` on the sign-in page (passwordless): enables "Sign in with a passkey" and offers the
 *   account's passkeys in the browser's autofill of the user ID field (conditional mediation, WebAuthn Level 3
 *   §5.1.4.1; the field has `autocomplete="username webauthn"`). Request options come from the form's
 *   data-options-url (POST with the CSRF token), so the page itself stays a plain page.
 * - `#passkey-verify` on the second-factor page: "Use your passkey", with the options in data-options.
 *
 * Either way the answer (AuthenticationResponseJSON, through @simplewebauthn/browser) is posted with the form;
 * the server verifies everything, nothing is trusted here.
 */
import { browserSupportsWebAuthn, browserSupportsWebAuthnAutofill, startAuthentication } from './webauthn/index.js';

const form = document.getElementById('passkey-sign-in') ?? document.getElementById('passkey-verify');
const button = form?.querySelector('button[data-passkey]');
const status = document.getElementById('passkey-status');

/** Fresh request options: from data-options (second factor) or from the server (sign-in page). */
async function requestOptions() {
  if (form.dataset.options) return JSON.parse(form.dataset.options);
  const response = await fetch(form.dataset.optionsUrl, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    body: new URLSearchParams({ _csrf: form.elements.namedItem('_csrf').value }),
  });
  if (!response.ok) throw new Error(`options: ${response.status}`);
  return response.json();
}

/** Posts the answer with the form (the server answers with the next page). */
function submit(answer) {
  form.elements.namedItem('response').value = JSON.stringify(answer);
  status.textContent = 'Checking your passkey\u2026';
  form.submit();
}

/** The ceremony started by the button. */
async function signInWithButton() {
  button.disabled = true;
  status.textContent = 'Follow your browser\u2019s prompt to use your passkey.';
  try {
    submit(await startAuthentication({ optionsJSON: await requestOptions() }));
  } catch (error) {
    status.textContent = error && error.name === 'AbortError'
      ? ''
      : 'The passkey was not used (cancelled, or the time ran out). Press the button to try again.';
    button.disabled = false;
  }
}

/** Offers passkeys in the user ID field's autofill; resolves only when the person picks one. */
async function offerAutofill() {
  if (!form.dataset.optionsUrl || !(await browserSupportsWebAuthnAutofill())) return;
  try {
    submit(await startAuthentication({ optionsJSON: await requestOptions(), useBrowserAutofill: true }));
  } catch {
    // Cancelled, or replaced by the button's ceremony (which aborts this one): nothing to say.
  }
}

if (form && button && status) {
  if (browserSupportsWebAuthn()) {
    button.addEventListener('click', signInWithButton);
    // The button stays hidden and disabled until this module runs (it does nothing without it).
    button.hidden = false;
    button.disabled = false;
    offerAutofill();
  } else if (form.id === 'passkey-verify') {
    status.textContent = 'This browser cannot use passkeys. Sign in from a browser that can, or choose another way below.';
  }
}
