/**
 * Password hashing with argon2id (RFC 9106; OWASP parameters m=19 MiB, t=2, p=1), and a dummy
 * verification so that unknown accounts cost the same time as known ones (design/security.md §3).
 *
 * Every argon2 call runs through one gate per process: at most `concurrency` run at once (default: the
 * number of CPU cores, `os.availableParallelism()`), at most `queueLimit` more wait, and work beyond that is
 * refused at once with DomainError `unavailable` (503, `Retry-After`) instead of queueing without limit
 * (design/security.md §12: fail fast with 503; a flood of sign-ins cannot make every request wait). The gate is
 * process-wide because argon2's worker threads are.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import { hash, verify, type Options } from '@node-rs/argon2';
import pLimit from 'p-limit';
import { DomainError } from '../../lib/index.js';
import { PASSWORD_MAX_LENGTH } from '../../policies/index.js';
import { passwordLength } from './password-policy.js';

/** argon2id parameters: memory in KiB, iterations, lanes. */
/** `algorithm: 2` is `Algorithm.Argon2id` (a const enum, not importable under verbatimModuleSyntax). */
export const ARGON2_OPTIONS: Options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** How much argon2 work the process takes on: `concurrency` at once, plus at most `queueLimit` waiting. */
export interface PasswordHashingLimits {
  /** argon2 computations running at once (≥ 1); default `os.availableParallelism()`. */
  concurrency: number;
  /** Computations that may wait for a free slot (≥ 0); more are refused with DomainError `unavailable`. Default 32. */
  queueLimit: number;
}

/** The limits in force until {@link configurePasswordHashing} is called. */
export const DEFAULT_PASSWORD_HASHING_LIMITS: Readonly<PasswordHashingLimits> = { concurrency: availableParallelism(), queueLimit: 32 };

const limit = pLimit(DEFAULT_PASSWORD_HASHING_LIMITS.concurrency);
let queueLimit = DEFAULT_PASSWORD_HASHING_LIMITS.queueLimit;
/** Admitted flows (see {@link admitPasswordWork}) that have not yet entered the gate: they hold a place in it. */
let reserved = 0;
const admission = new AsyncLocalStorage<{ entered: boolean }>();

/** Sets the gate's limits for the whole process (server/wiring.ts, from `PASSWORD_HASH_CONCURRENCY` and `PASSWORD_HASH_QUEUE_LIMIT`). */
export function configurePasswordHashing(limits: PasswordHashingLimits): void {
  limit.concurrency = Math.max(1, Math.floor(limits.concurrency));
  queueLimit = Math.max(0, Math.floor(limits.queueLimit));
}

/**
 * The gate's load now: `running` argon2 computations (at most `concurrency`), `waiting` ones queued for a slot
 * plus admitted flows holding a place (together at most `queueLimit`), and the limits in force. For tests and
 * diagnostics: it shows that a flood never makes the work or its queue grow past the limits.
 */
export function passwordHashingLoad(): { running: number; waiting: number; limits: PasswordHashingLimits } {
  return { running: limit.activeCount, waiting: limit.pendingCount + reserved, limits: { concurrency: limit.concurrency, queueLimit } };
}

/** @throws DomainError `unavailable` when every slot and every queue place is taken. */
function refuseWhenFull(): void {
  if (limit.activeCount + limit.pendingCount + reserved < limit.concurrency + queueLimit) return;
  throw new DomainError('unavailable', 'Too many sign-ins are being checked at this moment. Please try again in a few seconds.', { expose: true });
}

/** Runs one argon2 computation through the gate; an admitted flow is never refused here. */
function gated<T>(work: () => Promise<T>): Promise<T> {
  const ticket = admission.getStore();
  if (!ticket) refuseWhenFull();
  else if (!ticket.entered) {
    ticket.entered = true;
    reserved--;
  }
  return limit(work);
}

/**
 * Runs `flow` (e.g. a password sign-in) with its place in the argon2 gate taken before it starts, so that it
 * is refused before it does anything else — before a lockout attempt is reserved — rather than after. The
 * argon2 calls inside `flow` then wait for a slot but are never refused.
 * @throws DomainError `unavailable` (503) when the gate is full; `flow` does not run.
 */
export async function admitPasswordWork<T>(flow: () => Promise<T>): Promise<T> {
  refuseWhenFull();
  const ticket = { entered: false };
  reserved++;
  try {
    return await admission.run(ticket, flow);
  } finally {
    if (!ticket.entered) reserved--;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Hashes a password; returns a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
 * @throws DomainError `unavailable` when the argon2 gate is full.
 */
export function hashPassword(password: string): Promise<string> {
  return gated(() => hash(password, ARGON2_OPTIONS));
}

/**
 * Verifies a password against a PHC string. Input longer than {@link PASSWORD_MAX_LENGTH} characters (code
 * points, as the password policy counts them) is refused without hashing. A malformed hash verifies as false rather than throwing.
 * @throws DomainError `unavailable` when the argon2 gate is full.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > 4 * PASSWORD_MAX_LENGTH || passwordLength(password) > PASSWORD_MAX_LENGTH) return false;
  return gated(async () => {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  });
}

/**
 * Spends the time of one verification and returns false: for unknown accounts and refused attempts.
 * @throws DomainError `unavailable` when the argon2 gate is full.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword('connect-iam dummy password for timing equality').catch((error: unknown) => {
    dummyHash = undefined; // refused by a full gate: hash it on a later call
    throw error;
  });
  await verifyPassword(await dummyHash, password.slice(0, PASSWORD_MAX_LENGTH));
  return false;
}
