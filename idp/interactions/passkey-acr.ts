/**
 * Honouring `acr_values=phr` (OIDC Core §3.1.2.1; `phr`: phishing-resistant, OpenID EAP ACR Values 1.0 §2).
 * oidc-provider treats `acr_values` as voluntary (its `essential_acr(s)` checks only look at an essential `acr` of
 * the `claims` parameter), so this adds one check to the `login` prompt: an authorization request that lists `phr`
 * while the session's sign-in did not reach it (no passkey was used) needs the sign-in pages again, where the
 * sign-in must end with a passkey; `prompt=none` gets `login_required`. A session that signed in with a passkey
 * passes without a page (single sign-on keeps `phr`).
 */
import { oidcInteractionPolicy, type OidcPrompt } from '../oidc.js';
import { PHISHING_RESISTANT_ACR } from '../../identity/index.js';

/** The ACR values an authorization request asks for (`acr_values`, space-separated), in order. */
export function requestedAcrValues(params: Record<string, unknown> | undefined): string[] {
  const raw = params?.acr_values;
  return typeof raw === 'string' ? raw.split(' ').filter((v) => v !== '') : [];
}

/** True when the request asks for a phishing-resistant sign-in. */
export function requestsPhishingResistant(params: Record<string, unknown> | undefined): boolean {
  return requestedAcrValues(params).includes(PHISHING_RESISTANT_ACR);
}

type AcrCheckContext = { oidc: { acr?: string; params?: Record<string, unknown> } };

/**
 * Adds the `phishing_resistant_acr` check to `policy`'s `login` prompt, after its existing checks.
 * @returns `policy` (changed in place).
 */
export function withPhishingResistantCheck(policy: OidcPrompt[]): OidcPrompt[] {
  const { Check } = oidcInteractionPolicy;
  const login = policy.find((p) => p.name === 'login')!;
  login.checks.add(new Check('phishing_resistant_acr', 'acr_values asks for a phishing-resistant sign-in (phr) that the session has not reached', 'login_required', (ctx) => {
    const { oidc } = ctx as unknown as AcrCheckContext;
    return requestsPhishingResistant(oidc.params) && oidc.acr !== PHISHING_RESISTANT_ACR ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}
