/**
 * oidc-provider reads its own request bodies, so a NUL in a body parameter of `/token`, `/token/revocation`,
 * `/me`, PAR or a POSTed `/auth` (`client_id=a%00b`, a `nonce`) reaches the adapter, where PostgreSQL would
 * refuse it with a 500. This wrapper refuses it first: any id or payload holding U+0000 throws oidc-provider's
 * `InvalidRequest`, which each endpoint answers in its own way — `400 invalid_request` JSON on back-channel
 * endpoints, the error page (renderError) or an error redirect for `/auth`. Nothing is read or written.
 */
import { adapterFor } from './acting-organization.js';
import { oidcErrors, type OidcAdapter, type OidcAdapterFactory } from './oidc.js';

/** True when a string, or any string (key or value) nested in `value`, holds U+0000. */
function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (!value || typeof value !== 'object' || depth > 16) return false;
  return Object.entries(value).some(([key, v]) => key.includes('\u0000') || holdsNul(v, depth + 1));
}

/** The methods oidc-provider 9 calls on an adapter (lib/adapters/memory_adapter.js documents them). */
const ADAPTER_METHODS = ['upsert', 'find', 'findByUid', 'findByUserCode', 'consume', 'destroy', 'revokeByGrantId'] as const;

/**
 * Wraps `Adapter` (a class or factory, as oidc-provider's `adapter` option) so that every method refuses
 * arguments holding NUL.
 * @throws oidc-provider's `InvalidRequest` (400 `invalid_request`) from any adapter method given such an argument.
 */
export function refuseNulInAdapter(Adapter: OidcAdapterFactory): OidcAdapterFactory {
  return (modelName: string) => {
    const inner = adapterFor(Adapter, modelName) as unknown as Record<string, unknown>;
    const guarded: Record<string, unknown> = {};
    for (const method of ADAPTER_METHODS) {
      const call = inner[method];
      if (typeof call !== 'function') continue;
      guarded[method] = (...args: unknown[]) =>
        args.some((arg) => holdsNul(arg))
          ? Promise.reject(new oidcErrors.InvalidRequest('request parameters must not contain NUL characters'))
          : (call as (...a: unknown[]) => unknown).apply(inner, args);
    }
    return guarded as unknown as OidcAdapter;
  };
}
