/**
 * The passkey creation ceremony of the account page (views/account-passkey.ejs) and of the registration prompt at
 * sign-in (views/passkey-register.ejs), a static module under the IdP's strict
 * CSP (no inline script): enables "Create passkey" and, when it is pressed, asks the browser to create a credential from the server's creation
 * options (the form's data-options, WebAuthn Level 3 §5.4 JSON) through @simplewebauthn/browser, then posts the
 * answer (RegistrationResponseJSON) with the form. The server verifies it; nothing is trusted here.
 */
import { browserSupportsWebAuthn, startRegistration } from './webauthn/index.js';

const form = document.getElementById('passkey-complete');
const button = document.getElementById('passkey-create');
const status = document.getElementById('passkey-status');

/** Runs the ceremony once; on failure, says why and leaves the button for another try. */
async function createPasskey() {
  // The sign-in's registration page asks for the name in this form (the account page's form carries it hidden).
  if (!form.reportValidity()) return;
  if (!browserSupportsWebAuthn()) {
    status.textContent = 'This browser cannot create passkeys. Use another browser, or register an authenticator app instead.';
    return;
  }
  button.disabled = true;
  status.textContent = 'Follow your browser\u2019s prompt to create the passkey.';
  try {
    const response = await startRegistration({ optionsJSON: JSON.parse(form.dataset.options) });
    form.elements.namedItem('response').value = JSON.stringify(response);
    status.textContent = 'Saving the passkey\u2026';
    form.submit();
  } catch (error) {
    status.textContent = error && error.name === 'InvalidStateError'
      ? 'This device already holds a passkey for your account. Go back to your account to see it.'
      : 'The passkey was not created (cancelled, or the time ran out). Press "Create passkey" to try again.';
    button.disabled = false;
  }
}

button.addEventListener('click', createPasskey);
// The button stays disabled until this module runs (it does nothing without it).
button.disabled = false;
