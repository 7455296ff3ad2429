/**
 * The sign-in rate limits in front of the password and code steps (OWASP ASVS 5.0 V6.3.1). Each attempt is
 * counted per client IP and per interaction before the step runs; past a limit the step does not run — no
 * argon2, no lockout attempt — and the answer is 429 with `Retry-After` (RFC 9110 §10.2.3, RFC 6585 §4) and a
 * page that says how long to wait. A step that succeeds gives the client IP its attempt back.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { SignInAttemptSource } from '../../identity/index.js';
import { interactionOf, sendPage, urlsOf, type InteractionDeps } from './context.js';

/** What the 429 page says, by the limit that was reached. */
const REASONS = {
  ip: 'Too many sign-in attempts have come from your network in a short time.',
  interaction: 'Too many attempts have been made in this sign-in.',
} as const;

function sourceOf(req: Request, res: Response): SignInAttemptSource {
  return { ip: req.ip, interactionId: interactionOf(res).uid };
}

/** "about 14 minutes", "40 seconds": the wait, rounded up to whole minutes past one minute. */
export function describeWait(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `about ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** Middleware for a password or code step, after the interaction is loaded and its CSRF token checked. */
export function throttleAttempts(deps: InteractionDeps): RequestHandler {
  return async (req, res, next) => {
    const decision = await deps.throttle.consume(sourceOf(req, res));
    if (decision.allowed) return next();
    res.set('Retry-After', String(decision.retryAfterSeconds));
    await sendPage(res, deps.render, 429, 'throttled', {
      title: 'Please wait before trying again',
      reason: REASONS[decision.limit],
      waitFor: describeWait(decision.retryAfterSeconds),
      backHref: urlsOf(deps, interactionOf(res)).show,
    });
  };
}

/**
 * Gives the client IP back the attempt of a step that succeeded. A refund that fails is skipped: the count
 * only stays stricter, and the sign-in goes on.
 */
export async function forgiveAttempt(deps: InteractionDeps, req: Request, res: Response): Promise<void> {
  await deps.throttle.forgive(sourceOf(req, res)).catch(() => undefined);
}
