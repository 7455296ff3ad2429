/**
 * The factor registry: every {@link FactorDefinition} of ./index.ts built once with the shared
 * {@link FactorDeps}, found by id or by the step it may take. The sign-in flow and the account page go through
 * it; nothing else names a concrete factor.
 */
import type { Clock, Mailer } from '../../lib/index.js';
import type { AuthenticatorPolicy } from '../../policies/index.js';
import type { EventBus } from '../events.js';
import type { MailDelivery } from '../mail/delivery.js';
import type { IdentityStores, LockoutPolicy } from '../stores.js';
import type { FactorId, FactorStrategy } from './strategy.js';

/** What every factor may use when it is built (each takes what it needs). Durations are seconds. */
export interface FactorDeps {
  stores: IdentityStores;
  events: EventBus;
  clock: Clock;
  /** The lockout every factor's attempts count against (./attempts.ts). */
  lockout: LockoutPolicy;
  /** The outbox mailer, for notices to the account holder (a factor registered, removed). */
  mailer: Mailer;
  /** The outbox worker, for mail that must go at once (an emailed code). */
  delivery: MailDelivery;
  /** The deployment's display name (mail subjects, the TOTP issuer, the WebAuthn RP name). */
  displayName: string;
  /** The IdP's public URL (`ISSUER`, no trailing slash): the WebAuthn origin and RP ID come from it. */
  issuer: string;
  /** Emailed codes: lifetime and the wait between two delivered codes. */
  otp: { ttlSeconds: number; resendIntervalSeconds: number };
  /** The authenticator app rules (policies/authenticator.ts). */
  authenticatorPolicy: AuthenticatorPolicy;
}

/** How a factor is registered: its id and how to build its strategy. `S` may add the factor's own services. */
export interface FactorDefinition<Id extends FactorId = FactorId, S extends FactorStrategy<any, any, any, any> = FactorStrategy<any, any, any, any>> {
  readonly id: Id;
  create(deps: FactorDeps): S;
}

/** Declares a factor (keeps its literal id and strategy type for {@link FactorRegistry.byId}). */
export function defineFactor<Id extends FactorId, S extends FactorStrategy<any, any, any, any>>(definition: FactorDefinition<Id, S>): FactorDefinition<Id, S> {
  return definition;
}

/** The strategies by id, typed: `byId.totp` is the app factor's own strategy type. */
export type FactorsById<D extends readonly FactorDefinition[]> = { [K in D[number] as K['id']]: ReturnType<K['create']> };

/** The built factors. */
export interface FactorRegistry<D extends readonly FactorDefinition[] = readonly FactorDefinition[]> {
  /** Each strategy by its id, with its own type. */
  byId: FactorsById<D>;
  /** Every strategy, in registration order (the order the sign-in flow prefers them in when nothing else decides). */
  list(): FactorStrategy[];
  /** The strategy of `id`, or null when no factor has it. */
  find(id: FactorId): FactorStrategy | null;
  /** Strategies that may be a first step (`steps.first`). */
  firstSteps(): FactorStrategy[];
  /** Strategies that may be a second step (`steps.second`). */
  secondSteps(): FactorStrategy[];
}

/**
 * Builds every definition with `deps`.
 * @throws Error when two definitions share an id, or a strategy's id differs from its definition's.
 */
export function createFactorRegistry<D extends readonly FactorDefinition[]>(definitions: D, deps: FactorDeps): FactorRegistry<D> {
  const byId: Record<string, FactorStrategy> = {};
  for (const definition of definitions) {
    if (byId[definition.id]) throw new Error(`Two factors are registered as "${definition.id}".`);
    const strategy = definition.create(deps);
    if (strategy.id !== definition.id) throw new Error(`Factor "${definition.id}" built a strategy named "${strategy.id}".`);
    byId[definition.id] = strategy;
  }
  const all = Object.values(byId);
  return {
    byId: byId as FactorsById<D>,
    list: () => all,
    find: (id) => byId[id] ?? null,
    firstSteps: () => all.filter((s) => s.steps.first !== undefined),
    secondSteps: () => all.filter((s) => s.steps.second === true),
  };
}
