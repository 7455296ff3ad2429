/**
 * The account page's sign-in factors (issue 13 §5): each factor type the account has — password, authenticator
 * app, emailed code, passkeys (with their names, when registered and last used) — and whether the operator's
 * phishing-resistant rule asks it for a passkey. Display strings only, times in the deployment's time zone.
 */
import { formatInstant, type Account, type Identity, type Passkey, type PhishingResistantRequirement } from '../identity/index.js';

/** One passkey as the page lists it. */
export interface PasskeyRow {
  name: string;
  registered: string;
  lastUsed: string;
  /** `synced` for a multi-device credential, `this device only` otherwise. */
  kind: string;
}

/** One factor type and its state on this account. */
export interface FactorRow {
  factor: 'Password' | 'Authenticator app' | 'Emailed code' | 'Passkeys';
  state: string;
}

/** What the page shows about the account's factors. */
export interface AccountFactors {
  rows: FactorRow[];
  passkeys: PasskeyRow[];
  /** The phishing-resistant requirement as a sentence, or null when no rule asks anything of this account. */
  requirement: string | null;
  /** The account has an app or a passkey: resetting its second factor would remove something. */
  resettable: boolean;
}

/** The sentence for `requirement` (null when nothing is required). */
export function requirementText(requirement: PhishingResistantRequirement, timeZone: string): string | null {
  if (!requirement.required) return null;
  if (!requirement.askToRegister) return 'Required for this delegated administrator, and met: the account has a passkey.';
  if (!requirement.deadline) return 'Required for this delegated administrator: asked to register a passkey at every sign-in (may skip).';
  const at = formatInstant(requirement.deadline, timeZone);
  return requirement.mustRegisterNow
    ? `Required for this delegated administrator: the grace period ended ${at}; the next sign-in goes on only after registering a passkey.`
    : `Required for this delegated administrator: asked to register a passkey at sign-in; may skip until ${at}.`;
}

const passkeyRow = (p: Passkey, at: (d: Date) => string): PasskeyRow => ({
  name: p.name, registered: at(p.createdAt), lastUsed: p.lastUsedAt ? at(p.lastUsedAt) : 'Never used', kind: p.deviceType === 'multiDevice' ? 'synced' : 'this device only',
});

/** Gathers the factors of `account` (reads the stores and the policy service; changes nothing). */
export async function accountFactors(identity: Identity, account: Account, timeZone: string): Promise<AccountFactors> {
  const [app, preferred, passkeys, requirement] = await Promise.all([
    identity.stores.authenticators.findConfirmed(account.id),
    identity.stores.authenticators.findPreferredFactor(account.id),
    identity.passkeys.list(account.id),
    identity.phishingResistant.requirementFor(account.id),
  ]);
  const at = (d: Date) => formatInstant(d, timeZone);
  let email = 'Sent at every sign-in (no authenticator app)';
  if (app) email = identity.authenticatorPolicy.emailFallback ? `Available instead of the app${preferred === 'email' ? ' (the account\'s default)' : ''}` : 'Not offered: the account has an app and this deployment allows no fallback';
  const rows: FactorRow[] = [
    { factor: 'Password', state: account.passwordHash ? 'Set' : 'Not set yet (the set-password link was not used)' },
    { factor: 'Authenticator app', state: app ? `Registered ${app.confirmedAt ? at(app.confirmedAt) : ''}${preferred === 'app' ? ' (the account\'s default)' : ''}`.replace(/ {2,}/g, ' ') : 'None' },
    { factor: 'Emailed code', state: email },
    { factor: 'Passkeys', state: passkeys.length === 0 ? 'None' : `${passkeys.length} passkey${passkeys.length === 1 ? '' : 's'}` },
  ];
  return { rows, passkeys: passkeys.map((p) => passkeyRow(p, at)), requirement: requirementText(requirement, timeZone), resettable: Boolean(app) || passkeys.length > 0 };
}
