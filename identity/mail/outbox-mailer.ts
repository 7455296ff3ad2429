/**
 * A {@link Mailer} that puts each message in the durable outbox (purpose `notification`) and asks the worker to
 * deliver it at once. Every email identity/ sends without a code or link of its own — change-request, authenticator,
 * password and lock notices — goes through it, so it survives an SMTP outage or a restart, and `send` resolves
 * once the message is stored (it rejects only when the database does).
 */
import { newId, type Clock, type Mailer } from '../../lib/index.js';
import type { MailDelivery } from './delivery.js';
import type { MailOutboxStore } from './stores.js';

/** Creates the enqueueing mailer. */
export function createOutboxMailer(outbox: MailOutboxStore, delivery: MailDelivery, clock: Clock): Mailer {
  return {
    async send(message) {
      const id = newId();
      await outbox.enqueue({ id, purpose: 'notification', reference: null, accountId: null, message, discardAfter: null, deliveredEvent: null }, clock.now());
      delivery.deliverSoon([id]);
    },
  };
}
