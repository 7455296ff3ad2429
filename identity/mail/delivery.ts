/**
 * The outbox worker: leases due messages from the {@link MailOutboxStore}, hands each to the transport (SMTP or
 * the `.eml` folder), and marks it sent (which makes the code or link it carries usable) or schedules a retry
 * with exponential back-off; after `maxAttempts` it gives up (`mail.delivery_failed`). Every instance runs one;
 * the store's `FOR UPDATE SKIP LOCKED` lease makes each message go out once.
 *
 * Enqueuers call {@link MailDelivery.deliverSoon} with their message ids right after their transaction commits (or
 * store the message already leased and hand it to {@link MailDelivery.deliverLeased}: one claim fewer), so
 * a message normally leaves within milliseconds; {@link MailDelivery.start} adds polling (every `pollSeconds`,
 * and at each scheduled retry) for the rest: retries, and messages enqueued by processes that stopped.
 */
import type { Clock, Logger, Mailer } from '../../lib/index.js';
import { stampEvent, type EventBus } from '../events.js';
import type { ClaimedMail, MailOutboxStore, MailPurpose, UnreadableMail } from './stores.js';

/** The retry schedule and polling of delivery (config `MAIL_*`). Durations in seconds (fractions allowed). */
export interface MailDeliverySettings {
  /** Attempts before a message is given up (`MAIL_MAX_ATTEMPTS`, default 10). */
  maxAttempts: number;
  /** Wait after the first failed attempt; doubled after each further one (`MAIL_RETRY_INITIAL_SECONDS`, default 5). */
  retryInitialSeconds: number;
  /** Longest wait between attempts (`MAIL_RETRY_MAX_SECONDS`, default 600). */
  retryMaxSeconds: number;
  /** How often a started worker looks for due messages (`MAIL_POLL_SECONDS`, default 5). */
  pollSeconds: number;
  /** How long a leased message is reserved for its attempt (`MAIL_LEASE_SECONDS`, default 60; above the SMTP timeouts). */
  leaseSeconds: number;
}

/** The defaults of {@link MailDeliverySettings}, equal to lib/config.ts's. */
export const DEFAULT_MAIL_DELIVERY_SETTINGS: MailDeliverySettings = { maxAttempts: 10, retryInitialSeconds: 5, retryMaxSeconds: 600, pollSeconds: 5, leaseSeconds: 60 };

/** Called once a message is given up, by purpose (e.g. recovery gives back the reset quota slot). */
export type GivenUpHook = (mail: { accountId: string | null; reference: string | null }) => Promise<void>;

/** What {@link createMailDelivery} needs. `transport` really sends (lib `createMailer`). */
export interface MailDeliveryDeps {
  outbox: MailOutboxStore;
  transport: Mailer;
  events: EventBus;
  clock: Clock;
  settings: MailDeliverySettings;
  logger?: Logger;
}

/** The worker of one process. */
export interface MailDelivery {
  /** Delivers these just-enqueued messages now, in the background (never rejects; failures are retried later). */
  deliverSoon(ids: string[]): void;
  /**
   * Delivers messages the caller stored already leased for {@link leaseSeconds} (their first attempt counted), in
   * the background, without claiming them again (never rejects; a failure is retried, a lost one is delivered by
   * the poll once its lease ends).
   */
  deliverLeased(mails: ClaimedMail[]): void;
  /** How long a leased message is reserved for its attempt, in seconds (`MAIL_LEASE_SECONDS`). */
  readonly leaseSeconds: number;
  /** One pass over every due message; resolves with how many were leased. */
  deliverDue(): Promise<number>;
  /** Starts polling for due messages (retries, messages of other processes). */
  start(): void;
  /** Stops polling and further deliveries, and waits for the attempts under way. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the deliveries started so far have finished. */
  idle(): Promise<void>;
  /** Registers what happens when a message of `purpose` is given up. */
  onGivenUp(purpose: MailPurpose, hook: GivenUpHook): void;
}

const BATCH = 20;

/** The wait before attempt `attempts + 1`: `initial × 2^(attempts − 1)`, at most `max`. */
export function retryDelaySeconds(attempts: number, settings: Pick<MailDeliverySettings, 'retryInitialSeconds' | 'retryMaxSeconds'>): number {
  return Math.min(settings.retryMaxSeconds, settings.retryInitialSeconds * 2 ** Math.max(0, attempts - 1));
}

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 500);

/** Creates the worker (stopped: it delivers what {@link MailDelivery.deliverSoon} names, and polls once started). */
export function createMailDelivery(deps: MailDeliveryDeps): MailDelivery {
  const { outbox, transport, events, clock, settings, logger } = deps;
  const running = new Set<Promise<unknown>>();
  const timers = new Set<NodeJS.Timeout>();
  const givenUp = new Map<MailPurpose, GivenUpHook>();
  let polling: NodeJS.Timeout | undefined;
  let stopped = false;
  let passRunning = false;
  let passAgain = false;

  async function giveUp(mail: ClaimedMail | UnreadableMail, error: string): Promise<void> {
    await outbox.markFailed(mail, error, clock.now());
    logger?.error({ mailId: mail.id, purpose: mail.purpose, attempts: mail.attempts, error }, 'mail delivery failed; given up');
    await events.publish({ type: 'mail.delivery_failed', accountId: mail.accountId, data: { mailId: mail.id, purpose: mail.purpose, attempts: mail.attempts, error } }, clock.now());
    await givenUp.get(mail.purpose)?.({ accountId: mail.accountId, reference: mail.reference });
  }

  async function attempt(mail: ClaimedMail | UnreadableMail): Promise<void> {
    if ('unreadable' in mail) return giveUp(mail, mail.unreadable);
    if (mail.discardAfter && mail.discardAfter <= clock.now()) return giveUp(mail, 'expired before it could be delivered');
    try {
      await transport.send(mail.message);
    } catch (error) {
      const reason = describeError(error);
      if (mail.attempts >= settings.maxAttempts) return giveUp(mail, reason);
      const retryInSeconds = retryDelaySeconds(mail.attempts, settings);
      await outbox.markRetry(mail, reason, retryInSeconds);
      logger?.warn({ mailId: mail.id, purpose: mail.purpose, attempts: mail.attempts, retryInSeconds, error: reason }, 'mail delivery attempt failed; will retry');
      schedule(retryInSeconds);
      return;
    }
    // The delivered event is written with the row that records the delivery (one statement), then published.
    const recorded = mail.deliveredEvent ? stampEvent(mail.deliveredEvent, clock.now()) : undefined;
    if (!(await outbox.markSent(mail, clock.now(), recorded))) {
      logger?.warn({ mailId: mail.id, purpose: mail.purpose }, 'mail sent after its lease ran out; another worker may send it again');
      return;
    }
    if (recorded) await events.publishRecorded(recorded);
  }

  function track(work: Promise<unknown>): void {
    const done = work.catch((error: unknown) => logger?.warn({ err: error }, 'mail delivery could not reach the outbox; the poll retries')).finally(() => running.delete(done));
    running.add(done);
  }

  async function deliverClaimed(ids?: string[]): Promise<number> {
    const claimed = await outbox.claimDue({ limit: BATCH, leaseSeconds: settings.leaseSeconds, ids });
    await Promise.all(claimed.map((mail) => attempt(mail).catch((error: unknown) => logger?.warn({ err: error, mailId: mail.id }, 'recording a mail delivery failed; its lease runs out and it is retried'))));
    return claimed.length;
  }

  /** Passes over every due message until none is left; one pass at a time per process. */
  async function pass(): Promise<number> {
    if (passRunning) {
      passAgain = true;
      return 0;
    }
    passRunning = true;
    let total = 0;
    try {
      do {
        passAgain = false;
        for (let leased = BATCH; leased === BATCH && !stopped; ) {
          leased = await deliverClaimed();
          total += leased;
        }
      } while (passAgain && !stopped);
    } finally {
      passRunning = false;
    }
    return total;
  }

  function schedule(afterSeconds: number): void {
    if (stopped || !polling) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) track(pass());
    }, afterSeconds * 1000 + 50);
    timer.unref();
    timers.add(timer);
  }

  return {
    deliverSoon(ids) {
      if (stopped || ids.length === 0) return;
      track(deliverClaimed(ids));
    },
    deliverLeased(mails) {
      if (stopped || mails.length === 0) return;
      track(Promise.all(mails.map((mail) => attempt(mail).catch((error: unknown) => logger?.warn({ err: error, mailId: mail.id }, 'recording a mail delivery failed; its lease runs out and it is retried')))));
    },
    leaseSeconds: settings.leaseSeconds,
    deliverDue: () => pass(),
    start() {
      if (polling || stopped) return;
      polling = setInterval(() => track(pass()), settings.pollSeconds * 1000);
      polling.unref();
      track(pass());
    },
    async stop() {
      stopped = true;
      clearInterval(polling);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      while (running.size) await Promise.allSettled([...running]);
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running]);
    },
    onGivenUp(purpose, hook) {
      givenUp.set(purpose, hook);
    },
  };
}
